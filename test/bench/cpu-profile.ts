import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  /** file:line function */
  where: string;
  /** Share of the busy (non-idle) samples. */
  selfPct: number;
  selfMs: number;
  /** The JS frame that most often called it (useful for natives such as writev). */
  via?: string;
}

export interface ProfileSummary {
  file: string;
  /** True when the samples were restricted to the throughput window; false means the whole profile. */
  windowed: boolean;
  samples: number;
  sampledMs: number;
  /** Share of the window the process was idle (waiting in the event loop). */
  idlePct: number;
  topSelf: HotSpot[];
  /** Self time grouped by area (shares of busy time): node internals, one entry per package, project folders, GC, idle. */
  byArea: { area: string; selfPct: number }[];
  /** Inclusive (total) time, as a share of busy time, of project functions (dist/src, dist/sidecar, dist/proxy): where the bridge's own code sits. */
  topProjectInclusive: HotSpot[];
  /** Inclusive time of package functions (node_modules), e.g. the SDK client transport's send: which library calls cost the most, callees included. */
  topPackageInclusive: HotSpot[];
}

/** Frames of the project's own compiled code. */
const PROJECT = /\/dist\/(src|sidecar|proxy)\//;

function shortUrl(url: string, root: string): string {
  let u = url.startsWith('file://') ? url.slice(7) : url;
  if (u.startsWith(root)) u = u.slice(root.length);
  const nm = u.lastIndexOf('node_modules/');
  return nm === -1 ? u : u.slice(nm + 'node_modules/'.length);
}

function areaOf(url: string, fn: string, root: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native/builtin)';
  if (url.startsWith('node:')) return 'node:internal';
  const u = shortUrl(url, root);
  if (url.includes('node_modules/')) {
    const parts = u.split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? u);
  }
  const parts = u.split('/');
  return parts[0] === 'dist' ? `project:${parts[1] ?? ''}` : u;
}

function label(frame: ProfileNode['callFrame'], root: string): string {
  const fn = frame.functionName || '(anonymous)';
  if (!frame.url) return fn;
  return `${shortUrl(frame.url, root)}:${frame.lineNumber + 1} ${fn}`;
}

/**
 * Self and inclusive time per function of a V8 .cpuprofile. With `windowUs` (process.hrtime in µs,
 * the same monotonic clock V8 stamps samples with on Linux) only samples inside the window count.
 */
export function summarizeCpuProfile(file: string, root: string, windowUs?: [number, number], top = 10): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  let windowed = windowUs !== undefined && windowUs[0] < profile.endTime && windowUs[1] > profile.startTime;
  const pick = (from: number, to: number) => {
    const chosen: { id: number; dt: number }[] = [];
    let t = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      t += profile.timeDeltas[i] ?? 0;
      const dt = profile.timeDeltas[i + 1] ?? 0;
      if (t >= from && t <= to) chosen.push({ id: profile.samples[i] ?? 0, dt });
    }
    return chosen;
  };
  let chosen = windowed && windowUs ? pick(windowUs[0], windowUs[1]) : [];
  if (chosen.length === 0) {
    windowed = false;
    chosen = pick(-Infinity, Infinity);
  }

  const self = new Map<string, number>();
  const callers = new Map<string, Map<string, number>>();
  let idle = 0;
  const area = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const packageInclusive = new Map<string, number>();
  let total = 0;
  for (const { id, dt } of chosen) {
    const node = byId.get(id);
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)' && !node.callFrame.url) {
      idle += dt;
      continue;
    }
    total += dt;
    const key = label(node.callFrame, root);
    self.set(key, (self.get(key) ?? 0) + dt);
    // "via": the nearest project frame above the sample, else the nearest frame outside node internals.
    let caller: ProfileNode | undefined;
    let fallback: ProfileNode | undefined;
    for (let cur = parent.get(id), depth = 0; cur !== undefined && depth < 500; cur = parent.get(cur), depth++) {
      const frame = byId.get(cur);
      const url = frame?.callFrame.url ?? '';
      if (PROJECT.test(url)) {
        caller = frame;
        break;
      }
      if (!fallback && url && !url.startsWith('node:')) fallback = frame;
    }
    caller ??= fallback;
    if (caller?.callFrame.url) {
      const c = label(caller.callFrame, root);
      const perKey = callers.get(key) ?? new Map<string, number>();
      perKey.set(c, (perKey.get(c) ?? 0) + dt);
      callers.set(key, perKey);
    }
    const a = areaOf(node.callFrame.url, node.callFrame.functionName, root);
    area.set(a, (area.get(a) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id, depth = 0; cur !== undefined && depth < 500; cur = parent.get(cur), depth++) {
      const frame = byId.get(cur)?.callFrame;
      if (!frame) continue;
      const target = PROJECT.test(frame.url) ? inclusive : frame.url.includes('node_modules/') ? packageInclusive : undefined;
      if (!target) continue;
      const k = label(frame, root);
      if (seen.has(k)) continue;
      seen.add(k);
      target.set(k, (target.get(k) ?? 0) + dt);
    }
  }
  const spots = (m: Map<string, number>, n: number): HotSpot[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([where, us]) => {
        const via = [...(callers.get(where)?.entries() ?? [])].sort((a, b) => b[1] - a[1])[0]?.[0];
        return { where, selfPct: total > 0 ? (100 * us) / total : 0, selfMs: us / 1000, ...(via && m === self ? { via } : {}) };
      });
  return {
    file,
    windowed,
    samples: chosen.length,
    sampledMs: (total + idle) / 1000,
    idlePct: total + idle > 0 ? (100 * idle) / (total + idle) : 0,
    topSelf: spots(self, top),
    byArea: spots(area, 15).map((s) => ({ area: s.where, selfPct: s.selfPct })),
    topProjectInclusive: spots(inclusive, top),
    topPackageInclusive: spots(packageInclusive, top),
  };
}
