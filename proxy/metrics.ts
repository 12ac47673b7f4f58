import { Counter, Gauge, Histogram, Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';
import type { AuditRecord } from './router/router.js';

export interface ProxyMetrics {
  observeCall(record: AuditRecord): void;
  render(): Promise<string>;
  contentType: string;
}

/** Prometheus metrics of one proxy (own registry, so tests and several proxies never share counters). */
export function createProxyMetrics(instancesByStatus: () => Record<string, number>, mcpSessions: () => number = () => 0): ProxyMetrics {
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
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
