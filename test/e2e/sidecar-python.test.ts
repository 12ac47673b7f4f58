import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ProtocolError } from '@modelcontextprotocol/client';
import { root } from '../helpers/processes.js';
import { connectClient, startSidecar } from '../helpers/sidecar.js';

// The real Python example (examples/fs_server.py) behind a real sidecar, driven by the SDK client.
// It serves a temporary copy of examples/texts, so write_text never touches the repository.
const parent = mkdtempSync(join(tmpdir(), 'mm-fs-'));
const texts = join(parent, 'texts');
cpSync(join(root, 'examples/texts'), texts, { recursive: true });
t.teardown(() => rmSync(parent, { recursive: true, force: true }));

const sidecar = await startSidecar(t, { name: 'fs', command: ['python3', join(root, 'examples/fs_server.py'), '--root', texts] });
const client = await connectClient(t, sidecar.url);

type Content = { type: string; text: string }[];
async function call(name: string, args: Record<string, unknown>) {
  const result = await client.callTool({ name, arguments: args });
  return { text: (result.content as Content).map((c) => c.text).join('\n'), isError: result.isError === true };
}

t.test('server info, instructions and health', async (t) => {
  t.equal(client.getServerVersion()?.name, 'fs');
  t.match(client.getInstructions(), /relative to that folder/);
  const health = await sidecar.health();
  t.equal(health.state, 'ready');
  t.equal(health.tools, 5);
  t.equal(health.name, 'fs');
});

t.test('tools are listed with their input schemas', async (t) => {
  const { tools } = await client.listTools();
  t.same(tools.map((tool) => tool.name).sort(), ['analyze_narrative_structure', 'list_files', 'read_text', 'search_text', 'write_text']);
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  const read = byName.get('read_text')!;
  t.equal(read.inputSchema.type, 'object');
  t.same(read.inputSchema.required, ['path']);
  t.match(read.inputSchema.properties, { path: { type: 'string', minLength: 1 }, max_chars: { type: 'integer', minimum: 1 } });
  t.same(byName.get('write_text')!.inputSchema.required, ['path', 'content']);
  t.match(byName.get('search_text')!.inputSchema.properties, { query: { type: 'string' }, max_results: { maximum: 1000 }, case_sensitive: { type: 'boolean' } });
  for (const tool of tools) t.ok(tool.description && tool.description.length > 20, `${tool.name} has a description`);
});

t.test('list_files', async (t) => {
  const all = await call('list_files', {});
  t.notOk(all.isError);
  t.match(all.text, /^3 file\(s\) matching '\*':/);
  t.match(all.text, /chapter1\.txt\t917 bytes/);
  t.match(all.text, /notes\.md\t\d+ bytes/);
  const md = await call('list_files', { pattern: '*.md' });
  t.match(md.text, /^1 file\(s\)/);
  t.notMatch(md.text, /chapter/);
  t.match((await call('list_files', { pattern: '*.pdf' })).text, /no files match/);
});

t.test('read_text, whole and truncated', async (t) => {
  const whole = await call('read_text', { path: 'chapter1.txt' });
  t.notOk(whole.isError);
  t.equal(whole.text, readFileSync(join(texts, 'chapter1.txt'), 'utf8'), 'byte-for-byte the file');
  const cut = await call('read_text', { path: 'chapter1.txt', max_chars: 9 });
  t.match(cut.text, /^Chapter 1\n\[\.\.\. truncated: showed 9 of \d+ characters\]$/);
});

t.test('search_text', async (t) => {
  const hits = await call('search_text', { query: 'LEDGER' });
  t.notOk(hits.isError);
  t.match(hits.text, /match\(es\) for 'LEDGER':/);
  t.match(hits.text, /chapter1\.txt:1: Chapter 1: The Lighthouse Keeper's Ledger/);
  t.match(hits.text, /notes\.md:1: /);
  const exact = await call('search_text', { query: 'LEDGER', case_sensitive: true });
  t.match(exact.text, /no matches/);
  const capped = await call('search_text', { query: 'the', max_results: 2 });
  t.match(capped.text, /^2 match\(es\) for 'the' \(stopped at max_results=2\)/);
});

t.test('analyze_narrative_structure, by path and by text', async (t) => {
  const byPath = await call('analyze_narrative_structure', { path: 'chapter1.txt' });
  t.notOk(byPath.isError);
  const report = JSON.parse(byPath.text);
  t.ok(report.word_count > 100, `word_count ${report.word_count}`);
  t.ok(report.dialogue_ratio > 0 && report.dialogue_ratio < 1, `dialogue_ratio ${report.dialogue_ratio}`);
  t.same(report.chapter_headings, [{ line: 1, text: "Chapter 1: The Lighthouse Keeper's Ledger" }]);
  t.ok(
    report.top_words.some((w: { word: string }) => w.word === 'ledger'),
    'ledger is a top word',
  );
  const byText = JSON.parse((await call('analyze_narrative_structure', { text: 'One. Two words! "Three," she said.' })).text);
  t.equal(byText.sentence_count, 3);
  t.equal(byText.word_count, 6);
});

t.test('write_text creates a file in the root, refuses to overwrite unless asked', async (t) => {
  const created = await call('write_text', { path: 'drafts/chapter3.txt', content: 'Chapter 3: Dark\n\nThe light went out.\n' });
  t.notOk(created.isError, created.text);
  t.match(created.text, /^created drafts\/chapter3\.txt/);
  t.equal(readFileSync(join(texts, 'drafts/chapter3.txt'), 'utf8'), 'Chapter 3: Dark\n\nThe light went out.\n', 'on disk');
  t.match((await call('read_text', { path: 'drafts/chapter3.txt' })).text, /The light went out/, 'readable through the mesh');
  const again = await call('write_text', { path: 'drafts/chapter3.txt', content: 'x' });
  t.ok(again.isError, 'no silent overwrite');
  t.match(again.text, /already exists; pass overwrite: true/);
  const replaced = await call('write_text', { path: 'drafts/chapter3.txt', content: 'replaced', overwrite: true });
  t.match(replaced.text, /^replaced /);
  t.equal(readFileSync(join(texts, 'drafts/chapter3.txt'), 'utf8'), 'replaced');
  t.notOk(existsSync(join(root, 'examples/texts/drafts')), 'the repository copy is untouched');
});

t.test('tool errors come back as isError results, not protocol errors', async (t) => {
  const missing = await call('read_text', { path: 'nope.txt' });
  t.ok(missing.isError);
  t.match(missing.text, /file not found: 'nope\.txt'/);
  const folder = await call('read_text', { path: 'drafts' });
  t.ok(folder.isError);
  t.match(folder.text, /is a folder/);
  const both = await call('analyze_narrative_structure', { text: 'x', path: 'chapter1.txt' });
  t.ok(both.isError);
  t.match(both.text, /exactly one of 'text'/);
  t.equal((await sidecar.health()).state, 'ready', 'the server keeps running');
});

t.test('path traversal and absolute paths are refused', async (t) => {
  for (const path of ['../texts/chapter1.txt', 'drafts/../../secret.txt', '..']) {
    const read = await call('read_text', { path });
    t.ok(read.isError, `read ${path}`);
    t.match(read.text, /path traversal/);
  }
  const absolute = await call('read_text', { path: '/etc/passwd' });
  t.ok(absolute.isError);
  t.match(absolute.text, /absolute paths are not allowed/);
  const escape = await call('write_text', { path: '../escaped.txt', content: 'out' });
  t.ok(escape.isError);
  t.notOk(existsSync(join(parent, 'escaped.txt')), 'nothing written outside the root');
});

t.test('bad calls are JSON-RPC errors with a clear message', async (t) => {
  const unknown = await client.callTool({ name: 'no_such_tool', arguments: {} }).catch((e: unknown) => e);
  t.ok(unknown instanceof ProtocolError);
  t.equal((unknown as ProtocolError).code, -32602);
  t.match((unknown as ProtocolError).message, /Unknown tool: no_such_tool \(available: list_files/);
  const badArgs = await client.callTool({ name: 'read_text', arguments: { path: 'chapter1.txt', max_chars: 'ten' } }).catch((e: unknown) => e);
  t.match(badArgs, { code: -32602, message: /argument 'max_chars' must be of type integer/ });
});

t.test('resources are listed and read', async (t) => {
  const { resources } = await client.listResources();
  const uris = resources.map((r) => r.uri);
  t.ok(uris.includes('file://chapter1.txt'), `uris ${uris.join(' ')}`);
  t.ok(uris.includes('file://notes.md'));
  t.match(
    resources.find((r) => r.uri === 'file://chapter2.txt'),
    { name: 'chapter2.txt', mimeType: 'text/plain', size: 736 },
  );
  const read = await client.readResource({ uri: 'file://chapter2.txt' });
  t.equal(read.contents.length, 1);
  t.match(read.contents[0], { uri: 'file://chapter2.txt', mimeType: 'text/plain' });
  t.equal((read.contents[0] as { text: string }).text, readFileSync(join(texts, 'chapter2.txt'), 'utf8'));
  const missing = await client.readResource({ uri: 'file://nope.txt' }).catch((e: unknown) => e);
  t.match(missing, { code: -32602, message: /Resource not found: file:\/\/nope\.txt/ });
  const outside = await client.readResource({ uri: 'file://../package.json' }).catch((e: unknown) => e);
  t.match(outside, { code: -32602 }, 'no resource outside the root');
  const { resourceTemplates } = await client.listResourceTemplates();
  t.same(resourceTemplates, []);
});
