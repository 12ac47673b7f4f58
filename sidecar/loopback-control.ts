import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { MeshError, toHttpError, toMeshError } from '../src/errors.js';

/**
 * Serves a control API (mesh up's, the sidecar host's) on a free loopback port: a bad body is a
 * 400 naming it, any other failure the MeshError's own status and body.
 * @example const { server, port } = await listenLoopbackControl(app)
 */
export async function listenLoopbackControl(app: Hono): Promise<{ server: Server; port: number }> {
  app.onError((error, c) => {
    const mesh = error instanceof z.ZodError ? new MeshError('BAD_REQUEST', error.message) : toMeshError(error);
    const { status, body } = toHttpError(mesh);
    return c.json(body, status as ContentfulStatusCode);
  });
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- hono's listener answers its own errors (500): its promise never rejects.
  const server = createServer(getRequestListener(app.fetch));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
