import { paint, statusStyle, type Output } from '../output.js';
import type { RunState, ServiceState } from '../run-state.js';

const marks: Record<string, string> = { healthy: '✓', failed: '✗', unhealthy: '!', starting: '…', pending: '…', stopped: '-' };

/** One service's progress line: `✓ fs  healthy  5 tools  port 5000`, or the failure's reason. */
export function serviceLine(name: string, service: ServiceState, width: number, out: Pick<Output, 'color'>, columns = Infinity): string {
  const ports = [...new Set(service.instances.flatMap((i) => (i.port === undefined ? [] : [i.port])))];
  const replicas = service.instances.length > 1 ? ` ×${service.instances.length}` : '';
  let detail: string;
  if (service.status === 'healthy') detail = `${service.tools ?? 0} tools${ports.length > 0 ? `, port ${ports.join(',')}` : ''}`;
  else if (service.status === 'starting' || service.status === 'pending') detail = 'starting';
  else detail = service.reason ?? '';
  const room = columns - (width + 16);
  if (detail.length > room) detail = `${detail.slice(0, Math.max(10, room - 1))}…`;
  const mark = paint(out, statusStyle(service.status), marks[service.status] ?? '?');
  const status = paint(out, statusStyle(service.status), service.status.padEnd(9));
  return `  ${mark} ${(name + replicas).padEnd(width)}  ${status} ${detail}`;
}

/** Every service's line, in manifest order. */
function serviceLines(state: RunState, out: Pick<Output, 'color'>, columns = Infinity): string[] {
  const names = Object.keys(state.services);
  const width = Math.max(8, ...names.map((n) => n.length + (state.services[n]!.instances.length > 1 ? 3 : 0)));
  return names.map((name) => serviceLine(name, state.services[name]!, width, out, columns));
}

/** The line about the proxy: started by this run, shared with another run, or found running. */
function proxyLine(state: RunState): string {
  if (state.proxy.joined === true)
    return `using the mesh-proxy another \`mesh up\` started at ${state.proxy.url} (pid ${state.proxy.process?.pid ?? '?'}; shared, stopped when the last mesh using it goes down)`;
  return state.proxy.started
    ? `mesh-proxy started at ${state.proxy.url} (pid ${state.proxy.process?.pid ?? '?'}; URL from ${state.proxy.from})`
    : `using the mesh-proxy already running at ${state.proxy.url} (URL from ${state.proxy.from})`;
}

// A terminal gets one block redrawn in place; a pipe gets a line per change.
/**
 * Shows a run's progress: on a terminal the service lines are redrawn in place, otherwise each
 * service's status change is printed once.
 */
export class ProgressDisplay {
  private drawn = 0;
  private readonly printed = new Map<string, string>();
  private proxyShown = false;

  constructor(
    private readonly out: Output,
    private readonly write: (text: string) => void = (text) => process.stdout.write(text),
  ) {}

  update(state: RunState): void {
    if (this.out.json) return this.updateJson(state);
    // A run that failed to start (state.error) never had a proxy to name, even once it is stopping.
    const proxyKnown = state.phase !== 'failed' && state.error === undefined && (state.proxy.started || Object.keys(state.services).length > 0 || state.phase !== 'starting');
    if (!this.proxyShown && proxyKnown) {
      this.write(`${proxyLine(state)}\n`);
      this.proxyShown = true;
    }
    if (this.out.tty) {
      // Lines never wrap, or the cursor-up count would be wrong.
      const lines = serviceLines(state, this.out, this.out.columns - 1);
      const up = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
      this.write(`${up}${lines.map((line) => `\x1b[2K${line}\n`).join('')}`);
      this.drawn = lines.length;
      return;
    }
    const lines = serviceLines(state, this.out);
    Object.keys(state.services).forEach((name, i) => {
      const line = lines[i] ?? '';
      if (this.printed.get(name) !== line) {
        this.printed.set(name, line);
        this.write(`${line}\n`);
      }
    });
  }

  /** Stops redrawing in place: later output goes below the block. */
  freeze(): void {
    this.drawn = 0;
  }

  private updateJson(state: RunState): void {
    for (const [name, service] of Object.entries(state.services)) {
      const line = JSON.stringify({ service: name, status: service.status, tools: service.tools, reason: service.reason });
      if (this.printed.get(name) !== line) {
        this.printed.set(name, line);
        this.write(`${line}\n`);
      }
    }
  }
}
