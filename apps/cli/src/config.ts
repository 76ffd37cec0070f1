import { loadConfig, type ConfigOverrides } from '@stratus/config';
import { CLOUD_SECTIONS, type CloudConfig } from '@stratus/runtime';

export interface CommonFlags {
  config?: string;
  dataDir?: string;
  portOffset?: number;
  bind?: string;
}

/** The configuration with command-line flags on top (they win over file and environment). */
export function configFromFlags(flags: CommonFlags): CloudConfig {
  const core: NonNullable<ConfigOverrides<typeof CLOUD_SECTIONS>['core']> = {};
  if (flags.dataDir !== undefined) core.data_dir = flags.dataDir;
  if (flags.portOffset !== undefined) core.port_offset = flags.portOffset;
  if (flags.bind !== undefined) core.bind_host = flags.bind;
  return loadConfig({ sections: CLOUD_SECTIONS, file: flags.config, overrides: { core } });
}

export function parsePortOffset(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new Error(`--port-offset must be a non-negative integer, got "${value}"`);
  }
  return n;
}
