import type { InstanceServer } from '../src/http/instance-server.js';
import type { Logger } from '../src/log.js';
import type { Supervisor } from './supervisor.js';
import { requireBearerToken } from './control-auth.js';

/**
 * POST /control/restart (bearer token from `mesh up`; 401 without it, as the proxy answers): restarts
 * the child in place, so `mesh restart` never kills anything by name and the instance stays
 * registered (as `restarting`) meanwhile.
 * Answers once the new child is ready (200) or failed to start (503), with the health body.
 */
export function serveControl(server: InstanceServer, token: string, supervisor: Supervisor, log: Logger): void {
  server.app.use('/control/*', requireBearerToken(token, 'the token mesh up gave this sidecar (POST /control/restart)'));
  server.app.post('/control/restart', async (c) => {
    log.info('restart of the child requested by mesh up');
    await supervisor.restart();
    return c.json({ state: supervisor.state, pid: supervisor.pid ?? null, restarts: supervisor.restarts, lastError: supervisor.lastError ?? null }, supervisor.state === 'ready' ? 200 : 503);
  });
}
