import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { runsDir } from './paths.js';

/** What `mesh up` shows per instance and service. */
export const DisplayStatusSchema = z.enum(['pending', 'starting', 'healthy', 'unhealthy', 'failed', 'stopped']);
export type DisplayStatus = z.infer<typeof DisplayStatusSchema>;

export const ProcessRefSchema = z.object({ pid: z.number().int().positive(), startTime: z.number().optional() });
export type ProcessRef = z.infer<typeof ProcessRefSchema>;

export const InstanceStateSchema = z.object({
  replica: z.number().int().min(0),
  /** The sidecar (or native) process, leader of its own process group. */
  process: ProcessRefSchema.optional(),
  /** The sidecar's child (its own process group), as the sidecar last reported it. */
  child: ProcessRefSchema.optional(),
  port: z.number().int().optional(),
  url: z.string().optional(),
  log: z.string(),
  status: DisplayStatusSchema,
  reason: z.string().optional(),
  tools: z.number().int().optional(),
  /** Times `mesh up` started this process again after it died, or restarted it (`mesh restart`). */
  restarts: z.number().int().min(0).default(0),
});
export type InstanceState = z.infer<typeof InstanceStateSchema>;

export const ServiceStateSchema = z.object({
  kind: z.enum(['sidecar', 'native']),
  status: DisplayStatusSchema,
  reason: z.string().optional(),
  tools: z.number().int().optional(),
  instances: z.array(InstanceStateSchema),
});
export type ServiceState = z.infer<typeof ServiceStateSchema>;

export const RunStateSchema = z.object({
  version: z.literal(1),
  manifest: z.string(),
  bootId: z.string(),
  /** The `mesh up` process supervising this run. */
  supervisor: ProcessRefSchema,
  detached: z.boolean(),
  startedAt: z.string(),
  updatedAt: z.string(),
  /** starting → running (every service settled) → stopping → stopped; failed: up itself gave up. */
  phase: z.enum(['starting', 'running', 'stopping', 'stopped', 'failed']),
  error: z.string().optional(),
  /**
   * started: a proxy `mesh up` manages (this run started it, or `joined` the one another run
   * started; shared through $MESH_HOME/proxies/<port>/); restarts: times a run started it again.
   */
  proxy: z.object({
    url: z.string(),
    from: z.string(),
    started: z.boolean(),
    joined: z.boolean().optional(),
    process: ProcessRefSchema.optional(),
    log: z.string().optional(),
    restarts: z.number().int().min(0).optional(),
  }),
  services: z.record(z.string(), ServiceStateSchema),
});
export type RunState = z.infer<typeof RunStateSchema>;

const STATE_FILE = 'state.json';

/** The run state in `dir`, or undefined when there is none (or it is unreadable). */
export function readRunState(dir: string): RunState | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, STATE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = RunStateSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

// Readers (`mesh down`, a detached `up` waiting for its supervisor) never see a half-written file.
/** Writes the run state atomically (temp file, rename). */
export function writeRunState(dir: string, state: RunState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `${STATE_FILE}.${process.pid}.tmp`);
  writeFileSync(temp, `${JSON.stringify({ ...state, updatedAt: new Date().toISOString() }, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, join(dir, STATE_FILE));
}

/** Every run folder under MESH_HOME with its state. */
export function listRuns(env: NodeJS.ProcessEnv = process.env): { dir: string; state: RunState }[] {
  let names: string[];
  try {
    names = readdirSync(runsDir(env));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const dir = join(runsDir(env), name);
    const state = readRunState(dir);
    return state === undefined ? [] : [{ dir, state }];
  });
}
