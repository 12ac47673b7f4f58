import { execa, type ResultPromise } from 'execa';
import t, { type Test } from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { dist } from '../helpers/processes.js';
import { tempDir } from '../helpers/proxy.js';

// Takers of a stale registry lock racing each other: real processes, released by the kernel only.

// A child that takes the lock of `file` when it reads a line on stdin and then stays, holding it.
const CHILD = `
const { acquireLock } = await import(process.argv[1]);
process.stdin.once('data', () => acquireLock(process.argv[2]).then(
  () => process.stdout.write('held ' + process.pid + '\\n'),
  (error) => process.stdout.write('refused ' + error.message + '\\n'),
));
process.stdout.write('armed\\n');
`;

interface Child {
  proc: ResultPromise;
  /** The first line after `armed`. */
  answer: Promise<string>;
  armed: Promise<void>;
}

function spawnTaker(t: Test, file: string): Child {
  const proc = execa(process.execPath, ['--input-type=module', '-e', CHILD, dist('proxy/registry/file-lock.js'), file], { reject: false, buffer: false, stdin: 'pipe' });
  proc.catch(() => undefined);
  t.teardown(() => {
    proc.kill('SIGKILL');
  });
  let text = '';
  let onArmed!: () => void;
  let onAnswer!: (line: string) => void;
  const armed = new Promise<void>((resolve) => (onArmed = resolve));
  const answer = new Promise<string>((resolve) => (onAnswer = resolve));
  proc.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    const lines = text.split('\n');
    if (lines.length > 1 && lines[0] === 'armed') onArmed();
    if (lines.length > 2) onAnswer(lines[1]!);
  });
  return { proc, answer, armed };
}

// Leaves a stale lock: a holder killed with -9 (its socket file stays, nobody listens on it).
async function staleLock(t: Test, file: string): Promise<void> {
  const holder = spawnTaker(t, file);
  await holder.armed;
  holder.proc.stdin!.write('go\n');
  t.match(await holder.answer, /^held \d+$/, 'the first holder takes the lock');
  holder.proc.kill('SIGKILL');
  await holder.proc;
}

t.test('takers of a stale lock started together: exactly one wins, the others name it', async (t) => {
  const rounds = 6;
  const takers = 4;
  for (let round = 0; round < rounds; round++) {
    const file = join(tempDir(t), 'registry.db');
    await staleLock(t, file);
    const children = Array.from({ length: takers }, () => spawnTaker(t, file));
    await Promise.all(children.map((child) => child.armed));
    for (const child of children) child.proc.stdin!.write('go\n'); // all start taking within a millisecond
    const answers = await Promise.all(children.map((child) => child.answer));
    const winners = answers.filter((line) => line.startsWith('held '));
    t.equal(winners.length, 1, `round ${round + 1}: exactly one taker holds the lock (${answers.join(' | ')})`);
    const winner = winners[0]?.slice('held '.length);
    for (const line of answers.filter((answer) => !answer.startsWith('held '))) {
      t.match(line, new RegExp(`^refused registry file .* is in use by another mesh-proxy \\(process ${winner} holds it`), 'a loser names the winner');
    }
    for (const child of children) child.proc.kill('SIGKILL');
    await Promise.all(children.map((child) => child.proc));
  }
});

t.test('a taker that loses leaves no staging folder behind', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'registry.db');
  await staleLock(t, file);
  const children = [spawnTaker(t, file), spawnTaker(t, file)];
  await Promise.all(children.map((child) => child.armed));
  for (const child of children) child.proc.stdin!.write('go\n');
  await Promise.all(children.map((child) => child.answer)); // a loser answers after cleaning up
  t.same(readdirSync(dir), ['registry.db.lock']);
  t.equal(readdirSync(join(dir, 'registry.db.lock')).length, 1, 'the lock folder holds the one live socket');
});
