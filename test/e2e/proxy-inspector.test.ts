import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import t from 'tap';
import { execa } from 'execa';
import { pollJson, root } from '../helpers/processes.js';
import { startProxy, tempDir } from '../helpers/proxy.js';
import { connectModern } from '../helpers/modern.js';
import { startSidecar } from '../helpers/sidecar.js';

// MCP Inspector's CLI (a real third-party client) against the proxy's /mcp, with the Python example
// (examples/fs_server.py) behind a sidecar registered as service "fs". Both Inspector lines the
// registry serves are tried, pinned: 2.x (engines: node >= 22.19) and 0.16.x (node >= 22.7.5).
// This machine has Node 20, so npx also fetches node@22 and the bin runs on it:
//
//   npx -y -p node@22 -p @modelcontextprotocol/inspector@2.12.0 mcp-inspector --cli http://127.0.0.1:PORT/mcp --method tools/list
//
// (`mcp-inspector` is the bin in both lines; --cli picks the CLI; /mcp selects Streamable HTTP.)
// A version that cannot be fetched is skipped with the reason; nothing else is skipped.
const VERSIONS = ['2.12.0', '0.16.4'];
const MESH_TOOLS = ['list_services', 'get_service_info', 'get_service_status', 'call_service', 'register_service', 'deregister_service', 'heartbeat'];

// First fetches of node@22 and an Inspector take ~40 s each; tell the runner before they start.
t.setTimeout(420_000);

const npxArgs = (version: string) => ['-y', '-p', 'node@22', '-p', `@modelcontextprotocol/inspector@${version}`];
const tail = (text: string) =>
  text
    .split('\n')
    .filter((line) => line && !/EBADENGINE|nodedir/.test(line))
    .slice(-4)
    .join(' ');

// Inspector 2.x keeps a catalog and OAuth storage under ~/.mcp-inspector unless told otherwise.
const home = tempDir(t, 'mm-inspector-');
const env = { MCP_STORAGE_DIR: join(home, 'storage'), MCP_CATALOG_PATH: join(home, 'mcp.json') };

// The probe fetches (or finds in the npx cache) node@22 and the Inspector, and reports where npx put
// them: npx costs seconds per start on a busy machine, so tools/list and the fs__read_text call run
// through the documented npx command, and the other calls run the same bin on the same Node 22 directly.
interface Located {
  node: string;
  bin: string;
}
const located = new Map<string, Located | undefined>();
const probes = new Map<string, string | undefined>(); // version → why it is skipped
for (const version of VERSIONS) {
  const report = 'process.stdout.write(JSON.stringify({ node: process.execPath, path: process.env.PATH }))';
  const probe = await execa('npx', [...npxArgs(version), 'node', '-e', report], { env, reject: false, timeout: 180_000 });
  if (probe.exitCode !== 0) {
    probes.set(version, `Node 22 / @modelcontextprotocol/inspector@${version} could not be fetched through npx (exit ${probe.exitCode}: ${tail(probe.stderr || probe.stdout)})`);
    continue;
  }
  probes.set(version, undefined);
  try {
    const { node, path } = JSON.parse(probe.stdout) as { node: string; path: string };
    const binDir = path.split(delimiter).find((dir) => dir.includes('_npx') && existsSync(join(dir, 'mcp-inspector')));
    located.set(version, binDir ? { node, bin: join(binDir, 'mcp-inspector') } : undefined);
  } catch {
    located.set(version, undefined); // every call then goes through npx
  }
}

if ([...probes.values()].every((reason) => reason !== undefined)) {
  t.plan(0, `Inspector CLI not run: ${[...probes.values()].join('; ')}`);
} else {
  const proxy = await startProxy(t, { extra: ['--heartbeat-interval', '1', '--heartbeat-timeout', '4'] });
  const sidecar = await startSidecar(t, { name: 'fs', command: ['python3', `${root}examples/fs_server.py`], proxy: proxy.base, extra: ['--heartbeat', '1'] });
  await pollJson(`${proxy.base}/v1/services/fs`, (status, body) => status === 200 && body.status === 'healthy');
  const url = `${proxy.base}/mcp`;

  for (const version of VERSIONS) {
    const skip = probes.get(version);
    await t.test(`Inspector ${version} CLI against the proxy`, skip ? { skip } : {}, async (t) => {
      const where = located.get(version);
      const run = async (viaNpx: boolean, args: string[]) => {
        const started = performance.now();
        const [file, argv] = viaNpx || !where ? ['npx', [...npxArgs(version), 'mcp-inspector', '--cli', url, ...args]] : [where.node, [where.bin, '--cli', url, ...args]];
        const done = await execa(file, argv, { env, reject: false, timeout: 120_000 });
        t.comment(
          `${viaNpx || !where ? `npx ${npxArgs(version).join(' ')} ` : ''}mcp-inspector --cli ${url} ${args.join(' ')} → exit ${done.exitCode} in ${Math.round(performance.now() - started)} ms`,
        );
        return done;
      };
      const npx = (...args: string[]) => run(true, args);
      const cli = (...args: string[]) => run(false, args);
      const json = (done: { stdout: string; stderr: string }) => {
        try {
          return JSON.parse(done.stdout);
        } catch {
          throw new Error(`not JSON on stdout: ${done.stdout.slice(0, 500)}\nstderr: ${tail(done.stderr)}`);
        }
      };

      // Endpoint tools appear as soon as the proxy's tool set is rebuilt; the service is already healthy.
      let names: string[] = [];
      for (let attempt = 0; attempt < 5 && !names.includes('fs__read_text'); attempt++) {
        const listed = await (attempt === 0 ? npx : cli)('--method', 'tools/list');
        t.equal(listed.exitCode, 0, `tools/list exits 0 ${listed.exitCode ? tail(listed.stderr) : ''}`);
        names = (json(listed).tools as { name: string }[]).map((tool) => tool.name);
      }
      for (const name of [...MESH_TOOLS, 'fs__read_text', 'fs__search_text', 'fs__list_files']) t.ok(names.includes(name), `tools/list shows ${name}`);
      t.ok(
        names.every((name) => /^[A-Za-z0-9_-]{1,64}$/.test(name)),
        'every listed name fits the MCP tool-name pattern',
      );

      const read = await npx('--method', 'tools/call', '--tool-name', 'fs__read_text', '--tool-arg', 'path=chapter1.txt');
      t.equal(read.exitCode, 0, `tools/call fs__read_text exits 0 ${read.exitCode ? tail(read.stderr) : ''}`);
      const result = json(read);
      t.notOk(result.isError, 'not a tool error');
      t.match(result.content?.[0]?.text, /^Chapter 1: The Lighthouse Keeper's Ledger/, 'the namespaced tool returns the chapter text');

      const routed = await cli('--method', 'tools/call', '--tool-name', 'call_service', '--tool-arg', 'service=fs', 'tool=read_text', 'arguments={"path":"chapter1.txt"}');
      t.equal(routed.exitCode, 0, 'tools/call call_service exits 0');
      t.match(json(routed).content?.[0]?.text, /Lighthouse Keeper's Ledger/, 'call_service returns the same text');

      const unknown = await cli('--method', 'tools/call', '--tool-name', 'fs__nope');
      t.not(unknown.exitCode, 0, 'an unknown tool is an error (non-zero exit)');
      t.match(`${unknown.stdout}\n${unknown.stderr}`, /fs__nope|nope/, 'naming the tool');
    });
  }

  // Both eras on one URL at the same time: the Inspector CLI (a legacy client: initialize, session)
  // beside 25 v2 SDK clients speaking 2026-07-28, on the sidecar and on the proxy. Each reads a
  // chapter chosen by its index; an answer that reached the wrong call shows the wrong chapter.
  const version = VERSIONS.find((candidate) => probes.get(candidate) === undefined && located.get(candidate));
  const where = version === undefined ? undefined : located.get(version);
  await t.test('eras mixed: the Inspector CLI and 25 modern clients at once, on the sidecar and on the proxy', where ? {} : { skip: 'no Inspector bin located' }, async (t) => {
    if (!where) return;
    const chapters = ['Chapter 1: The Lighthouse', 'Chapter 2: Seen'];
    for (const [target, url, tool] of [
      ['sidecar', sidecar.url, 'read_text'],
      ['proxy', `${proxy.base}/mcp`, 'fs__read_text'],
    ] as const) {
      const modern = await Promise.all(Array.from({ length: 25 }, (_, i) => connectModern(t, url, {}, `modern-${i}`)));
      t.equal(modern.filter((client) => client.getProtocolEra() === 'modern').length, 25, `${target}: 25 clients on 2026-07-28`);
      const crossed: string[] = [];
      // The modern clients keep calling until both Inspector calls have answered, so the eras overlap.
      let inspectorsDone = false;
      let modernCount = 0;
      const modernCalls = modern.map(async (client, i) => {
        for (let round = 0; round < 4 || !inspectorsDone; round++) {
          modernCount++;
          const chapter = (i + round) % 2;
          const answer = await client.callTool({ name: tool, arguments: { path: `chapter${chapter + 1}.txt` } });
          const text = (answer.content as { text?: string }[])[0]?.text ?? '';
          if (!text.startsWith(chapters[chapter]!)) crossed.push(`modern ${i} round ${round} asked chapter ${chapter + 1}, got ${text.slice(0, 40)}`);
        }
      });
      const inspectorCalls = [1, 2].map(async (chapter) => {
        const done = await execa(where.node, [where.bin, '--cli', url, '--method', 'tools/call', '--tool-name', tool, '--tool-arg', `path=chapter${chapter}.txt`], {
          env,
          reject: false,
          timeout: 120_000,
        });
        const text = (JSON.parse(done.stdout || '{}') as { content?: { text?: string }[] }).content?.[0]?.text ?? `exit ${done.exitCode}: ${tail(done.stderr)}`;
        if (!text.startsWith(chapters[chapter - 1]!)) crossed.push(`Inspector asked chapter ${chapter}, got ${text.slice(0, 60)}`);
      });
      void Promise.all(inspectorCalls).finally(() => (inspectorsDone = true));
      await Promise.all([...modernCalls, ...inspectorCalls]);
      t.same(crossed, [], `${target}: ${modernCount} modern calls during 2 Inspector calls, every answer to the call that asked`);
    }
  });
}
