import { createTokenCheck } from '../src/http/bearer-token.js';
import type { InstanceServer } from '../src/http/instance-server.js';
import type { Logger } from '../src/log.js';
import type { Supervisor } from './supervisor.js';

/**
 * POST /control/restart (bearer token from `mesh up`): restarts the child in place, so `mesh restart`
 * never kills anything by name and the instance stays registered (as `restarting`) meanwhile.
 * Answers once the new child is ready (200) or failed to start (503), with the health body.
 */
export function serveControl(server: InstanceServer, token: string, supervisor: Supervisor, log: Logger): void {
  const check = createTokenCheck(token);
  server.app.post('/control/restart', async (c) => {
    const refused = check(c.req.header('authorization'));
    if (refused) return c.json({ error: { code: 'FORBIDDEN', message: `POST /control/restart needs the bearer token mesh up gave this sidecar (${refused.message})` } }, 403);
    log.info('restart of the child requested by mesh up');
    await supervisor.restart();
    return c.json({ state: supervisor.state, pid: supervisor.pid ?? null, restarts: supervisor.restarts, lastError: supervisor.lastError ?? null }, supervisor.state === 'ready' ? 200 : 503);
  });
}
