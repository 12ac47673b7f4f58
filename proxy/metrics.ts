import { Counter, Gauge, Histogram, Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';
import type { CircuitEvent, CircuitState } from './router/outlier-detector.js';
import type { AuditRecord } from './router/router.js';

export interface ProxyMetrics {
  observeCall(record: AuditRecord): void;
  /** A breaker transition: ejections and kept instances are counted per service. */
  observeCircuit(event: CircuitEvent): void;
  /** A request sent to a second replica because the first could not be reached. */
  observeRetry(service: string): void;
  render(): Promise<string>;
  contentType: string;
}

/** One breaker, as the `mesh_circuit_state` gauge shows it. */
export interface CircuitSample {
  service: string;
  instance: string;
  state: CircuitState;
}

const circuitStates: readonly CircuitState[] = ['closed', 'open', 'half-open'];

/** Prometheus metrics of one proxy (own registry, so tests and several proxies never share counters). */
/** What the gauges read when /metrics is scraped. */
export interface MetricSources {
  instancesByStatus: () => Record<string, number>;
  circuits?: () => CircuitSample[];
  mcpSessions?: () => number;
}

export function createProxyMetrics({ instancesByStatus, circuits = () => [], mcpSessions = () => 0 }: MetricSources): ProxyMetrics {
  const registry = new PromRegistry();
  collectDefaultMetrics({ register: registry, prefix: 'mesh_proxy_' });
  const calls = new Counter({ name: 'mesh_calls_total', help: 'Routed tool calls', labelNames: ['service', 'outcome'], registers: [registry] });
  const duration = new Histogram({
    name: 'mesh_call_duration_seconds',
    help: 'Routed tool call duration',
    labelNames: ['service'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  new Gauge({
    name: 'mesh_instances',
    help: 'Registered instances by status',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [status, count] of Object.entries(instancesByStatus())) this.set({ status }, count);
    },
  });
  // One series per instance and state, 1 for the state it is in (instances that left drop out).
  new Gauge({
    name: 'mesh_circuit_state',
    help: 'Circuit breaker state of each instance that has been called (1 = the state it is in)',
    labelNames: ['service', 'instance', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { service, instance, state } of circuits()) {
        for (const each of circuitStates) this.set({ service, instance, state: each }, each === state ? 1 : 0);
      }
    },
  });
  const ejections = new Counter({ name: 'mesh_circuit_ejections_total', help: 'Instances ejected after consecutive failures', labelNames: ['service'], registers: [registry] });
  const kept = new Counter({
    name: 'mesh_circuit_kept_total',
    help: 'Failing instances kept in rotation because ejecting them would leave their service too few replicas',
    labelNames: ['service'],
    registers: [registry],
  });
  const retries = new Counter({ name: 'mesh_call_retries_total', help: 'Requests sent to another replica because the first could not be reached', labelNames: ['service'], registers: [registry] });
  new Gauge({
    name: 'mesh_mcp_sessions',
    help: 'Open MCP client sessions of the endpoint (idle ones expire, --session-idle-timeout; capped, --max-sessions)',
    registers: [registry],
    collect() {
      this.set(mcpSessions());
    },
  });
  return {
    observeCall(record) {
      calls.inc({ service: record.service, outcome: record.outcome });
      duration.observe({ service: record.service }, record.durationMs / 1000);
    },
    observeCircuit(event) {
      if (event.type === 'ejected') ejections.inc({ service: event.service });
      else if (event.type === 'kept') kept.inc({ service: event.service });
    },
    observeRetry: (service) => retries.inc({ service }),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
