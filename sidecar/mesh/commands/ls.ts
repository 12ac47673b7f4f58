import { Command } from 'commander';
import type { ServiceInfo } from '../../../src/client/index.js';
import { withClient, withProxyOptions, type ProxyOptions } from '../common.js';
import { ago, jsonText, outputMode, paint, statusStyle, table } from '../output.js';

interface LsOptions extends ProxyOptions {
  status?: string;
  tag?: string;
}

/** One `mesh ls` row: service, instances, status, port, tools, last heartbeat, calls. */
function lsRow(service: ServiceInfo, now: number): string[] {
  const ports = [...new Set(service.instances.map((i) => i.port))].join(',');
  const last = Math.max(...service.instances.map((i) => i.lastHeartbeat));
  return [
    service.name,
    `${service.healthyCount}/${service.instanceCount}`,
    // Healthy but out of rotation: the proxy's circuit breakers ejected them after failing calls.
    service.ejectedCount ? `${service.status}, ${service.ejectedCount} ejected` : service.status,
    ports,
    String(service.toolCount),
    Number.isFinite(last) ? ago(last, now) : '-',
    service.calls === undefined ? '-' : String(service.calls),
  ];
}

/** `mesh ls`: the registered services as a table. */
export function lsCommand(): Command {
  const command = new Command('ls')
    .summary('table of services: instances, status, port, tools, last heartbeat, calls')
    .description('List the services registered with the proxy: instances (healthy/total), status, port, tools, last heartbeat, calls')
    .option('--status <status>', 'only services in this status (healthy, starting, unhealthy, restarting, crashloop)')
    .option('--tag <tag>', 'only services with this tag')
    .addHelpText('after', '\nExamples:\n  mesh ls\n  mesh ls -f configs/demo.yaml --json\n');
  return withProxyOptions(command).action(async (options: LsOptions) => {
    const out = outputMode(options);
    await withClient(options, async (mesh, _location, manifest) => {
      const filter = { ...(options.status ? { status: options.status as ServiceInfo['status'] } : {}), ...(options.tag ? { tag: options.tag } : {}) };
      const services = await mesh.services(filter);
      // With -f FILE, services of the manifest that never registered show up as absent.
      const absent =
        manifest === undefined || options.status !== undefined || options.tag !== undefined
          ? []
          : Object.entries(manifest.services)
              .filter(([name, s]) => s.enabled && !services.some((x) => x.name === name))
              .map(([name]) => name);
      if (out.json) {
        process.stdout.write(jsonText({ proxy: mesh.proxy, services, absent }));
        return;
      }
      const now = Date.now();
      const rows = services.map((service) => {
        const row = lsRow(service, now);
        row[2] = paint(out, statusStyle(service.status), row[2] ?? '');
        return row;
      });
      for (const name of absent) rows.push([name, '0/0', paint(out, 'gray', 'absent'), '-', '-', '-', '-']);
      if (rows.length === 0) {
        process.stdout.write(`no services registered with the proxy at ${mesh.proxy}\n`);
        return;
      }
      process.stdout.write(`${table(['SERVICE', 'INSTANCES', 'STATUS', 'PORT', 'TOOLS', 'LAST HEARTBEAT', 'CALLS'], rows, out)}\n`);
    });
  });
}
