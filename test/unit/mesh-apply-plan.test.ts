import t from 'tap';
import { diffLaunches } from '../../sidecar/mesh/orchestrator/apply-plan.js';
import type { Launch } from '../../sidecar/mesh/orchestrator/plan.js';

function launch(service: string, replica = 0, extra: Partial<Launch> = {}): Launch {
  return { service, replica, kind: 'sidecar', command: 'node', args: ['sidecar.js', '--name', service], cwd: '/srv', env: {}, ...extra };
}

t.test('diffLaunches: started, stopped, restarted, unchanged per service', async (t) => {
  const current = [launch('a'), launch('b'), launch('d'), launch('r'), launch('r', 1)];
  const next = [launch('b', 0, { env: { VERSION: '2' } }), launch('c'), launch('d'), launch('r')];
  t.same(
    [...diffLaunches(current, next)],
    [
      ['b', 'restarted'],
      ['c', 'started'],
      ['d', 'unchanged'],
      ['r', 'restarted'],
      ['a', 'stopped'],
    ],
    "an env change and a replica count change restart; the order is the new manifest's, then the removed",
  );
  t.same(
    [...diffLaunches(current, current)].map(([, change]) => change),
    ['unchanged', 'unchanged', 'unchanged', 'unchanged'],
  );
});
