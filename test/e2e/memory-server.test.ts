// examples/memory_server.py, the demo's memory: the reference server-memory's tools, and a graph
// file each of the two reads from the other.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { root } from '../helpers/processes.js';

t.setTimeout(120_000);
const python = ['python3', [join(root, 'examples/memory_server.py')]] as const;
const reference = [process.execPath, [join(root, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js')]] as const;

interface Answer {
  id: number;
  result?: { content?: { text: string }[]; tools?: { name: string }[]; isError?: boolean };
  error?: unknown;
}

// Sends the requests on stdin, closes it, and returns the answers by id (each server answers
// what it has read before it exits on end of input).
async function session(server: typeof python | typeof reference, file: string, calls: [string, unknown][]): Promise<Map<number, Answer>> {
  const init = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'test', version: '1' } } };
  const lines = [init, { jsonrpc: '2.0', method: 'notifications/initialized' }, ...calls.map(([method, params], i) => ({ jsonrpc: '2.0', id: i + 1, method, params }))];
  const result = await execa(server[0], [...server[1]], { input: lines.map((l) => JSON.stringify(l)).join('\n') + '\n', env: { MEMORY_FILE_PATH: file }, timeout: 60_000, reject: false });
  const answers = String(result.stdout)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Answer);
  return new Map(answers.map((a) => [a.id, a]));
}

const call = (name: string, args: unknown): [string, unknown] => ['tools/call', { name, arguments: args }];

t.test('the same tool names as the reference server', async (t) => {
  const dir = t.testdir();
  const ours = (await session(python, join(dir, 'a.jsonl'), [['tools/list', {}]])).get(1)?.result?.tools?.map((tool) => tool.name);
  const theirs = (await session(reference, join(dir, 'b.jsonl'), [['tools/list', {}]])).get(1)?.result?.tools?.map((tool) => tool.name);
  t.ok(theirs !== undefined && theirs.length > 0, 'the reference server lists its tools');
  t.same(ours?.sort(), theirs?.sort());
});

t.test('a graph written by memory_server.py is read by the reference server, and back', async (t) => {
  const file = join(t.testdir(), 'memory.jsonl');
  const wrote = await session(python, file, [
    call('create_entities', {
      entities: [
        { name: 'Ada', entityType: 'person', observations: ['writes chapters'] },
        { name: 'fs', entityType: 'service', observations: [] },
      ],
    }),
    call('create_relations', { relations: [{ from: 'Ada', to: 'fs', relationType: 'reads through' }] }),
    call('add_observations', { observations: [{ entityName: 'Nobody', contents: ['x'] }] }),
  ]);
  t.equal(wrote.get(3)?.result?.isError, true, 'an unknown entity is a tool error, not a dead server');
  t.equal(readFileSync(file, 'utf8').split('\n').length, 3, 'one JSON line per entity and relation');
  const read = await session(reference, file, [call('read_graph', {})]);
  const graph = JSON.parse(read.get(1)?.result?.content?.[0]?.text ?? '{}') as { entities: { name: string }[]; relations: { relationType: string }[] };
  t.same(
    graph.entities.map((e) => e.name),
    ['Ada', 'fs'],
  );
  t.same(
    graph.relations.map((r) => r.relationType),
    ['reads through'],
  );

  writeFileSync(file, '{"type":"entity","name":"Bob","entityType":"person","observations":["edits"]}\n{"type":"relation","from":"Bob","to":"Ada","relationType":"knows"}');
  const found = await session(python, file, [call('search_nodes', { query: 'EDIT' }), call('open_nodes', { names: ['Ada'] })]);
  const search = JSON.parse(found.get(1)?.result?.content?.[0]?.text ?? '{}') as { entities: { name: string }[]; relations: unknown[] };
  t.same(
    search.entities.map((e) => e.name),
    ['Bob'],
    'search is case-insensitive, over observations too',
  );
  t.equal(search.relations.length, 1, 'with the relations that touch what it found');
});
