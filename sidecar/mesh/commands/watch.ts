import { Command } from 'commander';
import { AuditEntrySchema } from '../../../src/contract/audit.js';
import { HelloEventSchema, RegistryEventSchema } from '../../../src/contract/events.js';
import { withProxyOptions, type ProxyOptions } from '../common.js';
import { callLine, eventLine } from '../observe-format.js';
import { outputMode } from '../output.js';
import { untilInterrupted, withProxyApi } from '../proxy-api.js';

interface WatchOptions extends ProxyOptions {
  calls?: boolean;
  service?: string;
}

/** `mesh watch`: the proxy's event stream, live, one line per event, until Ctrl-C. */
export function watchCommand(): Command {
  const command = new Command('watch')
    .summary('the event stream, live: joins, leaves, status and tool-list changes (and calls)')
    .description('Print the mesh events as they happen, one line each: instances joining and leaving, status changes, tool-list changes; with --calls every routed call too. Ctrl-C ends it.')
    .option('--calls', 'every routed call as well')
    .option('--service <name>', "only this service's events")
    .addHelpText(
      'after',
      '\nExamples:\n  mesh watch\n  mesh watch --calls --service fs\n  mesh watch --json | jq -c .\n\nWith --json, each event is one JSON line: {"event": "...", "data": {...}}.\n',
    );
  return withProxyOptions(command).action(async (options: WatchOptions) => {
    const out = outputMode(options);
    const signal = untilInterrupted();
    await withProxyApi(options, (api) =>
      api.stream(
        options.calls ? '/v1/events?calls=1' : '/v1/events',
        ({ event, data }) => {
          const parsed: unknown = JSON.parse(data);
          if (event === 'hello') {
            const hello = HelloEventSchema.safeParse(parsed);
            process.stderr.write(`watching the mesh-proxy at ${api.location.url} (${hello.success ? hello.data.services : '?'} services); Ctrl-C to stop\n`);
            return;
          }
          const service = (parsed as { service?: unknown }).service;
          if (options.service !== undefined && service !== options.service) return;
          if (out.json) {
            process.stdout.write(`${JSON.stringify({ event, data: parsed })}\n`);
            return;
          }
          const call = event === 'call' ? AuditEntrySchema.safeParse(parsed) : undefined;
          const registry = event === 'call' ? undefined : RegistryEventSchema.safeParse(parsed);
          // An event this version does not know is shown as it came.
          const line = call?.success ? callLine(out, call.data) : registry?.success ? eventLine(out, registry.data) : `${event} ${data}`;
          process.stdout.write(`${line}\n`);
        },
        signal,
      ),
    );
  });
}
