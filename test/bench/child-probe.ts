// What the era probe costs a child's start: spawn → initialize answered, with the server/discover
// probe (today's sidecar) and without it (the wire of the sidecar before the probe), alternating runs.
//   node dist/test/bench/child-probe.js [runs]
import { Bridge } from '../../src/bridge/bridge.js';
import { ChildEraTransport } from '../../src/stdio/child-era.js';
import { ChildProcessTransport } from '../../src/stdio/child-transport.js';
import { root } from './paths.js';
import { median, percentile } from './stats.js';

const runs = Number(process.argv[2] ?? 15);
const children: Record<string, string[]> = {
  'fs_server.py': ['python3', `${root}examples/fs_server.py`],
  'echo_server.py': ['python3', `${root}test/fixtures/echo_server.py`],
};

// Spawn to the initialize answer, as the supervisor does it.
async function start(command: string[], probe: boolean): Promise<{ ms: number; probeMs: number | undefined }> {
  const [cmd = 'python3', ...args] = command;
  const began = performance.now();
  const child = new ChildProcessTransport({ command: cmd, args });
  await child.start();
  const clientInfo = { name: 'bench', version: '1' };
  const capabilities = { sampling: {}, elicitation: {}, roots: { listChanged: true } };
  const era = new ChildEraTransport(child, { clientInfo, capabilities, probe });
  await era.start();
  const bridge = new Bridge({ name: 'bench', deadlineMs: 10_000 });
  bridge.attach(era);
  await bridge.request('initialize', { protocolVersion: '2025-11-25', capabilities, clientInfo });
  const ms = performance.now() - began;
  bridge.close();
  await child.close(1_000);
  return { ms, probeMs: era.probeMs };
}

for (const [name, command] of Object.entries(children)) {
  const withProbe: number[] = [];
  const without: number[] = [];
  const probeOnly: number[] = [];
  await start(command, true); // warm the file cache
  for (let i = 0; i < runs; i++) {
    const probed = await start(command, true);
    withProbe.push(probed.ms);
    if (probed.probeMs !== undefined) probeOnly.push(probed.probeMs);
    without.push((await start(command, false)).ms);
  }
  const f = (values: number[]) => `median ${median(values).toFixed(1)} ms, p90 ${percentile(values, 0.9).toFixed(1)} ms`;
  console.log(
    `${name} (${runs} runs each): spawn→initialize without probe ${f(without)}; with probe ${f(withProbe)}; difference of medians ${(median(withProbe) - median(without)).toFixed(1)} ms (probe write→verdict, incl. interpreter start: ${f(probeOnly)})`,
  );
}
