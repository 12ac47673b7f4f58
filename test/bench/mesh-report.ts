/** The `mesh` suite's tables, for stdout (the JSON carries MeshSuiteResult as is). */
import type { Latency, MeshSuiteResult } from './mesh-suite.js';

function fmt(value: number | undefined, digits: number): string {
  if (value === undefined) return '-';
  if (!Number.isFinite(value)) return 'n/a';
  return value.toFixed(digits);
}

// Left-aligned first column, numbers right-aligned.
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** Both parts: file polling vs mesh.call, then mesh up (or the line saying why it was skipped). */
export function formatMeshTable(r: MeshSuiteResult): string {
  const t = r.tool;
  const out: string[] = [];
  if (r.call) {
    const c = r.call;
    const row = (name: string, l: Latency) => [name, String(l.count), fmt(l.medianMs, 2), fmt(l.p90Ms, 2), fmt(l.minMs, 2), fmt(l.maxMs, 2)];
    out.push(
      `file polling vs mesh.call: ${t.service} ${t.name} ${JSON.stringify(t.arguments)} (python3 examples/fs_server.py), ${c.meshCall.count} sequential calls per route after ${r.options.warmup} warm-up, routes alternating`,
      ...table(
        ['route', 'calls', 'median ms', 'p90 ms', 'min ms', 'max ms'],
        [
          row('file polling: request.json → worker → stdio → response.json, both sides poll every 100 ms', c.filePolling),
          row("mesh.call('fs', …): MeshClient → mesh-proxy /v1 → mesh-sidecar → stdio", c.meshCall),
          row('  the tool alone: the worker’s stdio round trip (floor of both routes)', c.toolInWorker),
        ],
      ),
      `mesh.call is ${fmt(c.speedup, 1)}x faster than file polling (median over median); same answer on every call (${c.answerChars} characters)`,
      `set-up: file-polling worker ready in ${fmt(c.filePollingReadyMs, 0)} ms; mesh-proxy + mesh-sidecar "fs" healthy in ${fmt(c.meshReadyMs, 0)} ms`,
    );
  } else {
    out.push('file polling vs mesh.call: failed (see errors)');
  }
  out.push('');
  const up = r.up;
  if (up.skipped) {
    out.push(`mesh up configs/demo.yaml: skipped: ${up.skipped}`);
  } else if (!up.median) {
    out.push('mesh up configs/demo.yaml: failed (see errors)');
  } else {
    const m = up.median;
    const n = up.rounds.length;
    const of = (f: (x: (typeof up.rounds)[number]) => number) => {
      const values = up.rounds.map(f);
      return [fmt(Math.min(...values), 0), fmt(Math.max(...values), 0)];
    };
    const rows = [
      ['proxy healthy (GET /healthz 200)', fmt(m.proxyHealthyMs, 0), ...of((x) => x.proxyHealthyMs)],
      ...Object.entries(m.servicesHealthyMs).map(([name, ms]) => [`service ${name} healthy`, fmt(ms, 0), ...of((x) => x.servicesHealthyMs[name] ?? Number.NaN)]),
      ['all services healthy', fmt(m.allHealthyMs, 0), ...of((x) => x.allHealthyMs)],
      ['`mesh up --detach` returned', fmt(m.cliExitMs, 0), ...of((x) => x.cliExitMs)],
      ['`mesh down` (its own run time)', fmt(m.downMs, 0), ...of((x) => x.downMs)],
    ];
    const left = up.rounds.reduce((total, x) => total + x.leftovers.length, 0);
    out.push(
      `mesh up configs/demo.yaml --detach (proxy on a free port, fresh MESH_HOME and registry each round): ms from spawning the CLI, as first seen by polling GET /healthz and GET /v1/services every ~20 ms; median of ${n} round(s)`,
      ...table(['phase', 'median ms', 'min ms', 'max ms'], rows),
      `after mesh down: ${left === 0 ? 'nothing left running in any round' : `${left} process(es) left running (see errors)`}`,
    );
  }
  return out.join('\n');
}
