import t from 'tap';
import { LineReader, type OversizedLine } from '../../src/stdio/line-reader.js';

function reader(max: number) {
  const lines: string[] = [];
  const over: OversizedLine[] = [];
  return {
    lines,
    over,
    r: new LineReader(
      max,
      (line) => lines.push(line),
      (line) => over.push(line),
    ),
  };
}

t.test('lines split across chunks, several per chunk, CRLF and blank lines', async (t) => {
  const { lines, over, r } = reader(100);
  r.push(Buffer.from('{"a":'));
  r.push(Buffer.from('1}\n{"b":2}\r\n\n{"c"'));
  t.same(lines, ['{"a":1}', '{"b":2}']);
  r.push(Buffer.from(':3}\n'));
  t.same(lines, ['{"a":1}', '{"b":2}', '{"c":3}']);
  t.same(over, []);
});

t.test('a line of exactly the cap passes; one byte more is discarded, reported at the crossing and at its end', async (t) => {
  const { lines, over, r } = reader(10);
  r.push(Buffer.from('0123456789\n'));
  t.same(lines, ['0123456789']);
  r.push(Buffer.from('{"id":42,"r'));
  t.same(over, [{ bytes: 11, id: 42, ended: false }], 'the id at the start of the line is found');
  r.push(Buffer.from('x'.repeat(1000)));
  r.push(Buffer.from('yy\nnext\n'));
  t.same(over[1], { bytes: 1013, id: 42, ended: true }, 'the full size is known at the newline');
  t.same(lines, ['0123456789', 'next'], 'the reader resynchronises on the next line');
});

t.test('junk without an id reports none; a string id is found too', async (t) => {
  const { over, r } = reader(8);
  r.push(Buffer.from('#'.repeat(20)));
  t.same(over, [{ bytes: 20, id: undefined, ended: false }]);
  r.push(Buffer.from('\n{"jsonrpc":"2.0","id":"abc","result":{}}\n'));
  t.equal(over[2]?.id, 'abc');
});
