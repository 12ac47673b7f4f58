#!/usr/bin/env node
// The sidecar host of `mesh up`: many sidecars in one Node process, each with its own port,
// registration, heartbeat, supervision and control endpoint. Internal: `mesh-sidecar` stays the
// command for one server. Usage: node dist/sidecar/host.js --spec <file> (see host/host-spec.ts).
import { constants } from 'node:os';
import { packageVersion } from '../src/cli-args.js';
import { createLogger } from '../src/log.js';
import { readHostSpec } from './host/host-spec.js';
import { HostedServices } from './host/hosted-services.js';
import { serveHostControl } from './host/host-control.js';

const log = createLogger('sidecar-host');
const at = process.argv.indexOf('--spec');
const file = at === -1 ? undefined : process.argv[at + 1];
if (file === undefined) {
  process.stderr.write('usage: host.js --spec <file> (internal: started by mesh up)\n');
  process.exit(2);
}

let spec;
try {
  spec = readHostSpec(file);
} catch (error) {
  process.stderr.write(`sidecar host: cannot read ${file}: ${(error as Error).message}\n`);
  process.exit(2);
}

const services = new HostedServices({ controlToken: spec.controlToken, version: packageVersion });
let signals = 0;
// First signal: every service deregisters and drains at once; a second one kills the children's groups now.
const shutdown = (signal: NodeJS.Signals) => {
  if (++signals > 1) {
    log.warn(`second ${signal}: killing every server's process group and exiting now`);
    services.killAll();
    process.exit(128 + constants.signals[signal]);
  }
  log.info(`${signal}: stopping every service`);
  services.stopAll().then(
    () => process.exit(0),
    (error: Error) => {
      log.error(`stop failed: ${error.message}`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);

// Spans only when OTEL_EXPORTER_OTLP_ENDPOINT is set (the OTel SDK is not loaded otherwise).
if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) await (await import('../src/tracing/tracing.js')).startTracing('sidecar-host');
for (const service of spec.services) void services.add(service);
await serveHostControl(services, spec.controlToken, spec.controlFile);
log.info(`pid ${process.pid}: ${spec.services.length} service(s) starting`);
