import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { Hono } from 'hono';
import { z } from 'zod';
import { listenLoopbackControl } from '../../loopback-control.js';
import type { ResolvedManifest } from '../../../src/manifest/index.js';
import { requireBearerToken } from '../../control-auth.js';
import { writeControlFile } from '../control-file.js';
import type { RunState } from '../run-state.js';
import type { ServiceChange } from './apply-plan.js';

/** What the control channel drives: the run of this `mesh up`. */
export interface Controlled {
  state: RunState;
  applyManifest(manifest: ResolvedManifest): Promise<Map<string, ServiceChange>>;
  restartService(service: string): Promise<{ replica: number; pid: number | undefined }[]>;
}

/** The manifest file and the environment its `${VAR}`s are read from (the caller's). */
export const ApplyBodySchema = z.object({ manifest: z.string().min(1), env: z.record(z.string(), z.string()) });
export const RestartBodySchema = z.object({ service: z.string().min(1) });

/**
 * The supervisor's control channel: HTTP on loopback, a fresh bearer token per run, both written
 * to `<runDir>/control.json` (mode 0600 in a 0700 folder, so only this user can read them).
 * GET /status, POST /apply {manifest: file, env}, POST /restart {service}.
 * @example const control = await startControlServer(runDir, run, (file) => readManifest(file))
 */
export async function startControlServer(
  runDir: string,
  run: Controlled,
  load: (file: string, env: Record<string, string>) => Promise<ResolvedManifest>,
): Promise<{ server: Server; close(): Promise<void> }> {
  const token = randomBytes(32).toString('hex');
  const app = new Hono();
  app.use('*', requireBearerToken(token, 'the token in control.json of this run (the control channel of mesh up)'));
  app.get('/status', (c) => c.json(run.state));
  app.post('/apply', async (c) => {
    const body = ApplyBodySchema.parse(await c.req.json());
    const changes = await run.applyManifest(await load(body.manifest, body.env));
    return c.json({ changes: Object.fromEntries(changes) });
  });
  app.post('/restart', async (c) => {
    const body = RestartBodySchema.parse(await c.req.json());
    return c.json({ service: body.service, instances: await run.restartService(body.service) });
  });
  const { server, port } = await listenLoopbackControl(app);
  server.unref();
  writeControlFile(runDir, { url: `http://127.0.0.1:${port}`, token, pid: process.pid });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
