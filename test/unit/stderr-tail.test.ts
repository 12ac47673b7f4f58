import t from 'tap';
import { StderrTail } from '../../src/stdio/stderr-tail.js';

t.test('lines split across chunks are joined; blank lines and CR dropped', async (t) => {
  const tail = new StderrTail();
  t.same(tail.push('first li'), []);
  t.same(tail.push('ne\r\nsecond\n\nthi'), ['first line', 'second']);
  t.equal(tail.text(), 'first line\nsecond\nthi', 'the unterminated line is part of the text');
  t.same(tail.push('rd\n'), ['third']);
  t.equal(tail.text(2), 'second\nthird');
});

t.test('keeps only the last maxLines lines', async (t) => {
  const tail = new StderrTail(3);
  for (let i = 1; i <= 10; i++) tail.push(`line ${i}\n`);
  t.equal(tail.text(100), 'line 8\nline 9\nline 10');
  t.equal(tail.text(), 'line 8\nline 9\nline 10', 'default count is more than what is kept');
});

t.test('long lines are cut; a huge unterminated line is flushed, not grown forever', async (t) => {
  const tail = new StderrTail(10, 5);
  t.same(tail.push('abcdefghij\n'), ['abcde']);
  const done = tail.push('x'.repeat(20));
  t.same(done, ['xxxxx'], 'the runaway partial line is emitted cut');
  t.equal(tail.text(), 'abcde\nxxxxx');
});

t.test('empty tail gives an empty string', async (t) => {
  t.equal(new StderrTail().text(), '');
});
