import { Command } from 'commander';
import { AuditAnswerSchema, AuditEntrySchema, SinceSchema, type AuditEntry } from '../../../src/contract/audit.js';
import { ServicesAnswerSchema } from '../../../src/contract/services.js';
import { withProxyOptions, type ProxyOptions } from '../common.js';
import { CliError } from '../errors.js';
import { bytes, callLine, clock, millis, outcomeText } from '../observe-format.js';
import { jsonText, outputMode, table, type Output } from '../output.js';
import { untilInterrupted, withProxyApi } from '../proxy-api.js';

interface AuditOptions extends ProxyOptions {
  service?: string;
  tool?: string;
  caller?: string;
  since?: string;
  errors?: boolean;
  limit?: string;
  follow?: boolean;
}

// The /v1/audit query of these options; a bad --since or --limit is refused here, naming the flag.
function auditQuery(options: AuditOptions): URLSearchParams {
  const query = new URLSearchParams();
  if (options.service) query.set('service', options.service);
  if (options.tool) query.set('tool', options.tool);
  if (options.caller) query.set('caller', options.caller);
  if (options.errors) query.set('errors', '1');
  if (options.since !== undefined) {
    const since = SinceSchema.safeParse(options.since);
    if (!since.success) throw new CliError(`--since: ${since.error.issues[0]?.message ?? 'invalid'}`);
    query.set('since', options.since.trim());
  }
  const limit = Number(options.limit ?? 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CliError(`--limit: "${options.limit}" is not a whole number from 1 to 10000`);
  query.set('limit', String(limit));
  return query;
}

// What --follow prints of a live call: the same filters the query applied to the history.
function matches(entry: AuditEntry, options: AuditOptions): boolean {
  if (options.service && entry.service !== options.service) return false;
  if (options.tool && entry.tool !== options.tool) return false;
  if (options.caller && (entry.caller ?? 'client') !== options.caller) return false;
  return !options.errors || entry.outcome !== 'ok';
}

function auditTable(out: Output, entries: readonly AuditEntry[]): string {
  const rows = entries.map((e) => [
    clock(e.at),
    e.caller ?? 'client',
    e.service,
    e.tool,
    outcomeText(out, e.outcome),
    millis(e.durationMs),
    bytes(e.requestBytes),
    bytes(e.responseBytes),
    e.hops === undefined ? '-' : String(e.hops),
    e.errorCode ?? '',
  ]);
  return table(['TIME', 'CALLER', 'SERVICE', 'TOOL', 'OUTCOME', 'DURATION', 'IN', 'OUT', 'HOPS', 'ERROR'], rows, out);
}

/** `mesh audit`: the proxy's audit trail (who called which tool, how it ended), filtered; --follow for new calls live. */
export function auditCommand(): Command {
  const command = new Command('audit')
    .summary('the audit trail: who called which tool, how long, how it ended (--follow: live)')
    .description('Print the routed calls the proxy recorded, oldest first (the newest --limit of them), filtered; with --follow, keep printing new calls as they happen until Ctrl-C.')
    .option('--service <name>', "only this service's calls")
    .option('--tool <name>', 'only calls of this tool')
    .option('--caller <name>', 'only calls by this caller')
    .option('--since <when>', 'only calls since a duration ago (30s, 10m, 2h, 1d) or a time in ms since epoch')
    .option('--errors', 'only calls that did not end ok (error, timeout, tool_error)')
    .option('--limit <n>', 'how many of the newest calls (default 50, at most 10000)')
    .option('-F, --follow', 'keep printing new calls as they happen (Ctrl-C ends it)')
    .addHelpText(
      'after',
      '\nExamples:\n  mesh audit --since 10m\n  mesh audit --service fs --errors\n  mesh audit --follow --caller my-app\n\nWith --json: {"entries": [...]} newest first; with --follow, one JSON line per call.\n',
    );
  return withProxyOptions(command).action(async (options: AuditOptions) => {
    const out = outputMode(options);
    const query = auditQuery(options);
    await withProxyApi(options, async (api) => {
      // Following: the live stream is subscribed first, so no call falls between the history and the stream.
      const signal = options.follow ? untilInterrupted() : undefined;
      const early: AuditEntry[] = [];
      let lastId: number | undefined;
      const print = (entry: AuditEntry) => {
        if (lastId !== undefined && entry.id <= lastId) return;
        lastId = entry.id;
        process.stdout.write(out.json ? `${JSON.stringify(entry)}\n` : `${callLine(out, entry)}\n`);
      };
      let history = false;
      let subscribed = (): void => undefined;
      const hello = new Promise<void>((resolve) => (subscribed = resolve));
      const following =
        signal &&
        api.stream(
          '/v1/events?calls=1',
          ({ event, data }) => {
            if (event === 'hello') subscribed();
            if (event !== 'call') return;
            const entry = AuditEntrySchema.safeParse(JSON.parse(data));
            if (!entry.success || !matches(entry.data, options)) return;
            if (history) print(entry.data);
            else early.push(entry.data);
          },
          signal,
        );
      // Handled here too: a stream that fails while the history loads must not be an unhandled rejection.
      following?.catch(() => undefined);
      // The proxy says hello once the stream is subscribed: the history is read after that, so no call falls in between.
      if (following) await Promise.race([hello, following]);
      const { entries } = await api.get(AuditAnswerSchema, `/v1/audit?${query.toString()}`);
      if (out.json && !options.follow) {
        process.stdout.write(jsonText({ entries }));
        return;
      }
      const oldestFirst = [...entries].reverse();
      if (options.follow) {
        for (const entry of oldestFirst) print(entry);
        history = true;
        for (const entry of early) print(entry);
        await following;
        return;
      }
      if (entries.length === 0) {
        const { services } = await api.get(ServicesAnswerSchema, '/v1/services');
        const known = services.map((s) => s.name);
        const unknown = options.service !== undefined && !known.includes(options.service);
        process.stdout.write(
          unknown
            ? `no calls recorded for service "${options.service}", and no service of that name is registered (registered: ${known.length ? known.join(', ') : 'none'})\n`
            : 'no calls recorded that match\n',
        );
        return;
      }
      process.stdout.write(`${auditTable(out, oldestFirst)}\n`);
    });
  });
}
