import { Command } from 'commander';
import { ServicesAnswerSchema, type ServiceInfo } from '../../../src/contract/services.js';
import { withProxyOptions, type ProxyOptions } from '../common.js';
import { loadCells } from '../observe-format.js';
import { ago, jsonText, outputMode, paint, statusStyle, table, type Output } from '../output.js';
import { withProxyApi } from '../proxy-api.js';

// A service's row: health, then its load over the last minute and five minutes, then its last error.
function statusRow(out: Output, service: ServiceInfo, now: number): string[] {
  const status = service.ejectedCount ? `${service.status}, ${service.ejectedCount} ejected` : service.status;
  const last = service.load?.lastError;
  // One line per service: a long message is cut (the full one is in `--json` and `mesh audit`).
  const message = `${last?.code ?? ''} ${last?.message ?? ''}`.replace(/\s+/g, ' ').trim();
  const lastError = last ? `${ago(last.at, now)}: ${message.length > 70 ? `${message.slice(0, 69)}…` : message}` : '';
  return [service.name, paint(out, statusStyle(service.status), status), `${service.healthyCount}/${service.instanceCount}`, ...loadCells(service.load), lastError];
}

/** `mesh status`: one screen of the mesh: the proxy, each service's health, calls/min, p95, errors, restarts. */
export function statusCommand(): Command {
  const command = new Command('status')
    .summary('one screen: services, health, calls/min, p95, errors, restarts')
    .description(
      'One screen of the mesh: the proxy, and per service its health, healthy/total instances, calls in the last minute, p95 latency and error rate over 5 minutes, calls in flight, child restarts and its last error',
    )
    .addHelpText('after', '\nExamples:\n  mesh status\n  mesh status --json | jq ".services[] | {name, load}"\n');
  return withProxyOptions(command).action(async (options: ProxyOptions) => {
    const out = outputMode(options);
    await withProxyApi(options, async (api) => {
      const { services } = await api.get(ServicesAnswerSchema, '/v1/services');
      if (out.json) {
        process.stdout.write(jsonText({ proxy: api.location.url, services }));
        return;
      }
      const healthy = services.filter((s) => s.status === 'healthy').length;
      const calls = services.reduce((sum, s) => sum + (s.load?.calls1m ?? 0), 0);
      process.stdout.write(`${paint(out, 'bold', 'proxy')} ${api.location.url}: ${services.length} services, ${healthy} healthy, ${calls} calls in the last minute\n`);
      if (services.length === 0) return;
      const now = Date.now();
      const rows = services.map((service) => statusRow(out, service, now));
      process.stdout.write(`${table(['SERVICE', 'STATUS', 'INSTANCES', 'CALLS/MIN', 'P95', 'ERRORS', 'IN FLIGHT', 'RESTARTS', 'LAST ERROR'], rows, out)}\n`);
    });
  });
}
