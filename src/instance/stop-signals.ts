import type { Logger } from '../log.js';
import { stopTracing } from '../tracing/tracing.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** How long a stopped instance's process may take to end on its own before the signal is raised again. */
const DRAIN_MS = 1_000;

/**
 * On SIGINT/SIGTERM: stop cleanly (deregister, close). The process then ends on its own (exit code
 * 0) once nothing else keeps it alive; if something does (a timer, a socket of the program's) and
 * the program has no handler of its own, the signal is raised again after DRAIN_MS so the process
 * ends as the signal would have ended it. Library code never ends the process itself.
 * Returns a function that removes the handlers.
 */
export function installStopSignals(stop: () => Promise<void>, log: Logger): () => void {
  const handler = (signal: NodeJS.Signals) => {
    remove();
    log.info(`${signal}: stopping`);
    stop()
      .catch((error: Error) => log.error(`stop failed: ${error.message}`))
      // The process is about to end: the spans still in the batch are exported first.
      .then(() => stopTracing())
      .catch(() => undefined)
      .finally(() => {
        if (process.listenerCount(signal) === 0) setTimeout(() => process.kill(process.pid, signal), DRAIN_MS).unref();
      });
  };
  const remove = () => {
    for (const signal of SIGNALS) process.off(signal, handler);
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  return remove;
}
