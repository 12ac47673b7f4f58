// Namespaced names, property style: for many generated (service, tool) pairs, odd and long names
// included, every name fits the MCP pattern, is the same on every call, is unique in the set, and
// resolves back to its pair; the separator is configurable and checked.
import t from 'tap';
import { checkSeparator, namespacedName, SEPARATOR_PATTERN, TOOL_NAME_PATTERN, ToolNamer } from '../../proxy/mcp/namespacing.js';

// A small deterministic generator (mulberry32): the same cases on every run, and a failure names its seed.
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICE_CHARS = 'abz09_-';
const TOOL_CHARS = 'aZ9_-.:/ é💥';

function word(next: () => number, chars: string, max: number, first = chars): string {
  const length = 1 + Math.floor(next() ** 3 * max);
  const symbols = [...chars];
  const firsts = [...first];
  let text = firsts[Math.floor(next() * firsts.length)] ?? 'a';
  while ([...text].length < length) text += symbols[Math.floor(next() * symbols.length)] ?? 'a';
  return text;
}

function pairs(seed: number, count: number): { service: string; tool: string }[] {
  const next = random(seed);
  const out: { service: string; tool: string }[] = [];
  for (let i = 0; i < count; i++) out.push({ service: word(next, SERVICE_CHARS, 63, 'ab09'), tool: word(next, TOOL_CHARS, 90) });
  // Pairs built to collide: the same text split differently, and names equal after cleaning.
  out.push({ service: 'a', tool: 'b__c' }, { service: 'a__b', tool: 'c' }, { service: 'a_', tool: '_b' }, { service: 'a', tool: '_b' }, { service: 'a_', tool: 'b' });
  out.push({ service: 'fs', tool: 'read.text' }, { service: 'fs', tool: 'read_text' }, { service: 'fs', tool: 'read text' }, { service: 'fs', tool: 'read/text' });
  out.push({ service: 'x'.repeat(63), tool: 'y'.repeat(80) }, { service: 'x'.repeat(63), tool: `${'y'.repeat(79)}z` });
  return out;
}

for (const separator of ['__', '_', '-', '--', 'x_']) {
  t.test(`separator ${JSON.stringify(separator)}: valid, stable, unique, resolvable`, async (t) => {
    const namer = new ToolNamer(separator);
    for (const seed of [1, 2, 3]) {
      const cases = pairs(seed, 2_000);
      const distinct = new Map(cases.map((pair) => [`${pair.service}\0${pair.tool}`, pair]));
      const names = new Map<string, string>();
      const index = namer.index(distinct.values());
      let bad = 0;
      for (const [key, pair] of distinct) {
        const name = namer.name(pair.service, pair.tool);
        if (!TOOL_NAME_PATTERN.test(name) || namer.name(pair.service, pair.tool) !== name) {
          bad++;
          t.fail(`seed ${seed}: ${JSON.stringify(pair)} -> ${name} does not fit the pattern or changed`);
        }
        const other = names.get(name);
        if (other !== undefined) t.fail(`seed ${seed}: ${JSON.stringify(pair)} and ${JSON.stringify(other)} share ${name}`);
        names.set(name, key);
        t.same(index.resolve(name), pair, `seed ${seed}: ${name} resolves back`, { diagnostic: false });
      }
      t.equal(bad, 0, `seed ${seed}: ${distinct.size} pairs, every name valid and stable`);
    }
  });
}

t.test('plain pairs keep their readable name; others get a short hash of the pair', async (t) => {
  t.equal(namespacedName('fs', 'read_text'), 'fs__read_text');
  t.equal(namespacedName('fs', 'read_text', '-'), 'fs-read_text');
  t.equal(namespacedName('a', 'b__c'), 'a__b__c', 'a separator inside the tool name is fine: it splits at the first');
  t.match(namespacedName('a__b', 'c'), /^a__b__c_[0-9a-f]{8}$/, 'a service holding the separator is hashed, so it never takes a__b__c');
  t.match(namespacedName('a_', 'b'), /^a___b_[0-9a-f]{8}$/, 'nor one ending in part of it');
  t.match(namespacedName('fs', 'read.text'), /^fs__read_text_[0-9a-f]{8}$/);
  t.equal(namespacedName('x'.repeat(63), 'y'.repeat(80)).length, 64);
});

t.test('the separator is checked', async (t) => {
  for (const good of ['__', '_', '-', '--', '___', 'x_']) t.ok(SEPARATOR_PATTERN.test(good), good);
  for (const bad of ['', '.', '::', 'ab', '_____', ' _', '_/']) t.throws(() => checkSeparator(bad), { code: 'BAD_REQUEST', message: /separator/ }, JSON.stringify(bad));
  t.throws(() => new ToolNamer('.'), { code: 'BAD_REQUEST' });
});
