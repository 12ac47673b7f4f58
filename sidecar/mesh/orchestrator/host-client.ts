import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { MeshError } from '../../../src/errors.js';
import { waitUntil } from '../../../src/stdio/process-group.js';
import { requestJson } from './http-json.js';
import { HostControlFileSchema, HostedStatusSchema, type HostControlFile, type HostedService, type HostedStatus } from '../../host/host-spec.js';

const ListSchema = z.object({ pid: z.number(), services: z.array(HostedStatusSchema) });

function readControl(file: string): HostControlFile | undefined {
  try {
    return HostControlFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

/** The control API of one sidecar host process (the one with `pid`), as its control file names it. */
export class HostClient {
  constructor(
    private readonly controlFile: string,
    private readonly token: string,
    readonly pid: number,
  ) {}

  // The host writes its control file once it listens; until then (or for an older host's file) wait.
  private async url(timeoutMs: number): Promise<string> {
    let found: HostControlFile | undefined;
    const ok = await waitUntil(() => (found = readControl(this.controlFile))?.pid === this.pid, timeoutMs, 20);
    if (!ok || found === undefined) throw new MeshError('SERVICE_UNAVAILABLE', `the sidecar host pid ${this.pid} did not open its control API within ${timeoutMs} ms`);
    return found.url;
  }

  private async call(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<unknown> {
    const base = await this.url(timeoutMs);
    const answer = await requestJson(`${base}${path}`, { method, headers: { authorization: `Bearer ${this.token}` }, body, timeoutMs });
    if (!answer.ok && answer.status !== 404) throw new MeshError('SERVICE_UNAVAILABLE', `the sidecar host answered ${method} ${path} with HTTP ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  /** Starts (or replaces, or keeps) one service in the host. */
  async add(service: HostedService): Promise<void> {
    await this.call('POST', '/services', service);
  }

  /** Stops one service in the host (it deregisters and drains first); a key it does not run is no error. */
  async remove(key: string, timeoutMs: number): Promise<void> {
    await this.call('DELETE', `/services/${encodeURIComponent(key)}`, undefined, timeoutMs);
  }

  /** Every service of the host with its URL and child; undefined when the host does not answer now. */
  async list(timeoutMs = 1_000): Promise<HostedStatus[] | undefined> {
    try {
      const parsed = ListSchema.safeParse(await this.call('GET', '/services', undefined, timeoutMs));
      return parsed.success ? parsed.data.services : undefined;
    } catch {
      return undefined;
    }
  }
}
