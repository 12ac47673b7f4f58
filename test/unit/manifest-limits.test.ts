// The manifest's limits: proxy ones become mesh-proxy flags, a service's become mesh-sidecar flags or a native instance's MESH_* variables.
import t from 'tap';
import { parseManifest } from '../../src/manifest/load.js';
import { limitArgs } from '../../sidecar/mesh/orchestrator/proxy-launch.js';
import { planLaunches } from '../../sidecar/mesh/orchestrator/plan.js';

const manifest = (proxy: string, service = '') =>
  parseManifest(['version: 1', `proxy: ${proxy}`, 'services:', `  fs: { command: x${service} }`, `  cmc: { kind: native, command: node${service} }`, ''].join('\n'), '/m/mesh.yaml', {});
const plan = (text: ReturnType<typeof manifest>) => planLaunches(text, { proxyUrl: 'http://127.0.0.1:7000', node: '/usr/bin/node', sidecarScript: '/x/sidecar/cli.js' });

t.test('proxy limits become mesh-proxy flags; what the manifest leaves out keeps the proxy defaults', async (t) => {
  const full = manifest('{ drainTimeout: 5, sessionIdleTimeout: 600, maxSessions: 50, maxResponseBytes: 1048576 }');
  t.same(limitArgs(full.proxy), ['--drain-timeout', '5', '--session-idle-timeout', '600', '--max-sessions', '50', '--max-response-bytes', '1048576']);
  t.same(limitArgs(manifest('{ maxSessions: 3 }').proxy), ['--max-sessions', '3']);
  t.same(limitArgs(manifest('{}').proxy), [], 'none set: no flags');
});

t.test('service limits become mesh-sidecar flags, and MESH_* variables of a native instance', async (t) => {
  const [fs, cmc] = plan(manifest('{}', ', drainTimeout: 2.5, sessionIdleTimeout: 60, maxSessions: 10, maxMessageBytes: 65536'));
  t.match(fs?.args.join(' '), / --drain-timeout 2\.5 --session-idle-timeout 60 --max-sessions 10 --max-message-bytes 65536 .* -- x$/);
  t.match(cmc?.env, { MESH_DRAIN_TIMEOUT: '2.5', MESH_SESSION_IDLE_TIMEOUT: '60', MESH_MAX_SESSIONS: '10' });
  t.notOk(
    Object.keys(cmc?.env ?? {}).some((key) => /MESSAGE/.test(key)),
    'maxMessageBytes is a sidecar limit only',
  );
  const [plainFs, plainCmc] = plan(manifest('{}'));
  t.notMatch(plainFs?.args.join(' '), /--drain-timeout|--session-idle-timeout|--max-sessions|--max-message-bytes/, 'omitted: mesh-sidecar defaults');
  t.notOk(
    ['MESH_DRAIN_TIMEOUT', 'MESH_SESSION_IDLE_TIMEOUT', 'MESH_MAX_SESSIONS'].some((key) => key in (plainCmc?.env ?? {})),
    'omitted: createInstance defaults',
  );
});

// A native instance got neither (createInstance fell back to 60 s and 30 s whatever the manifest said).
t.test('a native instance gets the deadline and heartbeat a sidecar of the same manifest gets', async (t) => {
  const [fs, cmc] = plan(manifest('{ deadline: 20, heartbeatInterval: 5 }', ', deadline: 7'));
  t.match(fs?.args.join(' '), / --heartbeat 5 --deadline 7 /);
  t.match(cmc?.env, { MESH_DEADLINE: '7', MESH_HEARTBEAT: '5' });
  const [, plainCmc] = plan(manifest('{ deadline: 20 }'));
  t.match(plainCmc?.env, { MESH_DEADLINE: '20' }, 'omitted on the service: proxy.deadline');
});
