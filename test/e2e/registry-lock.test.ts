import { execa } from 'execa';
import t, { type Test } from 'tap';
import { dist, freePort, pollJson, waitFor } from '../helpers/processes.js';
import { startProxy, tempDir } from '../helpers/proxy.js';
import { procStat } from '../../src/stdio/process-group.js';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

// The registry lock after a proxy died by kill -9 while nothing reaps it (PID 1 here does not, nor
// does a parent that never waits): a zombie holds no lock, so a new proxy starts at once.

// Starts a proxy as the child of a Python parent that never reaps it; returns the proxy's pid and the parent.
async function proxyUnderNonReapingParent(t: Test, registry: string, port: number) {
  const script = 'import subprocess, sys, time\np = subprocess.Popen(sys.argv[1:])\nprint(p.pid, flush=True)\ntime.sleep(600)\n';
  const parent = execa('python3', ['-c', script, process.execPath, dist('proxy/cli.js'), '--port', String(port), '--mcp-port', '0', '--registry', registry], {
    reject: false,
    detached: true,
    buffer: false,
  });
  parent.catch(() => undefined);
  t.teardown(() => {
    try {
      process.kill(-parent.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  });
  const pid = await new Promise<number>((resolve) => parent.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  await pollJson(`http://127.0.0.1:${port}/healthz`, (status) => status === 200);
  return pid;
}

t.test('a kill -9ed proxy left as a zombie does not block the next one', async (t) => {
  const registry = join(tempDir(t), 'registry.sqlite');
  const pid = await proxyUnderNonReapingParent(t, registry, await freePort());
  process.kill(pid, 'SIGKILL');
  await waitFor(() => procStat(pid)?.state === 'Z', 'the killed proxy is a zombie');
  const next = await startProxy(t, { registryFile: registry });
  t.equal((await fetch(`${next.base}/healthz`)).status, 200, 'the new proxy serves on the same registry');
});

t.test('an old pid lock file naming a live process that is no proxy (pid 1) does not block', async (t) => {
  const registry = join(tempDir(t), 'registry.sqlite');
  writeFileSync(`${registry}.lock`, '1\n');
  const proxy = await startProxy(t, { registryFile: registry });
  t.equal((await fetch(`${proxy.base}/healthz`)).status, 200);
});

t.test('a lock really held: the second proxy fails at once naming the holder pid', async (t) => {
  const first = await startProxy(t);
  const second = await execa(process.execPath, [dist('proxy/cli.js'), '--port', String(await freePort()), '--mcp-port', '0', '--registry', first.registryFile], { reject: false, timeout: 20_000 });
  t.equal(second.exitCode, 2);
  t.match(second.stderr, new RegExp(`in use by another mesh-proxy \\(process ${first.proc.pid} holds it; lock .*registry\\.sqlite\\.lock\\)`));
});

// Another network namespace (a container on a shared registry volume; hosts as `ip netns`) sees the same lock.
const unshareWorks = spawnSync('unshare', ['-rn', 'true']).status === 0;
t.test('a second proxy in another network namespace is refused naming the holder', { skip: unshareWorks ? false : 'needs unshare -rn (util-linux, user namespaces)' }, async (t) => {
  const first = await startProxy(t);
  const second = execa('unshare', ['-rn', process.execPath, dist('proxy/cli.js'), '--port', String(await freePort()), '--mcp-port', '0', '--registry', first.registryFile], {
    reject: false,
    detached: true,
    buffer: false,
  });
  second.catch(() => undefined);
  t.teardown(() => {
    try {
      process.kill(-second.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  });
  let stdout = '';
  let stderr = '';
  second.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  second.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await waitFor(() => second.exitCode !== null || stdout.includes('mesh-proxy: ready'), 'the second proxy exits or says it is ready', 20_000);
  if (stdout.includes('mesh-proxy: ready')) return t.fail(`the second proxy started beside process ${first.proc.pid}: ${stdout.trim()}`);
  await second;
  t.equal(second.exitCode, 2);
  t.match(stderr, new RegExp(`in use by another mesh-proxy \\(process ${first.proc.pid} holds it; lock .*registry\\.sqlite\\.lock\\)`));
});
