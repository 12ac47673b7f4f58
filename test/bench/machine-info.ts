import { cpus, loadavg, platform, release, totalmem } from 'node:os';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  totalMemMiB: number;
  loadavg: number[];
}

/** What the figures were measured on; ratios travel between machines, absolute figures do not. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${platform()} ${release()}`,
    totalMemMiB: Math.round(totalmem() / 1024 / 1024),
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
