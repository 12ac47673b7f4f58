import { renameSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { Hono } from 'hono';
import { MeshError } from '../../src/errors.js';
import { requireBearerToken } from '../control-auth.js';
import { listenLoopbackControl } from '../loopback-control.js';
import { HostedServiceSchema, type HostControlFile } from './host-spec.js';
import type { HostedServices } from './hosted-services.js';

/**
 * The host's control API for `mesh up` (loopback, the run's control token): GET /services,
 * POST /services {key, log, sidecar} (idempotent per key), DELETE /services/:key. Its URL is
 * written to `controlFile` (0600) once it listens.
 * @example const server = await serveHostControl(services, token, '<runDir>/host/control.json')
 */
export async function serveHostControl(services: HostedServices, token: string, controlFile: string): Promise<Server> {
  const app = new Hono();
  app.use('*', requireBearerToken(token, 'the control token mesh up gave this sidecar host'));
  app.get('/services', (c) => c.json({ pid: process.pid, services: services.list() }));
  app.post('/services', async (c) => {
    const service = HostedServiceSchema.parse(await c.req.json());
    const outcome = await services.add(service);
    return c.json({ key: service.key, outcome }, outcome === 'added' ? 201 : 200);
  });
  app.delete('/services/:key', async (c) => {
    const key = c.req.param('key');
    if (!(await services.remove(key))) throw new MeshError('SERVICE_NOT_FOUND', `this sidecar host runs no service "${key}"`);
    return c.json({ key, outcome: 'removed' });
  });
  const { server, port } = await listenLoopbackControl(app);
  const record: HostControlFile = { url: `http://127.0.0.1:${port}`, pid: process.pid };
  const temp = `${controlFile}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(record), { mode: 0o600 });
  renameSync(temp, controlFile);
  return server;
}
