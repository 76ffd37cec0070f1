import { loadConfig, type ConfigOverrides } from '@stratus/config';
import { cloudSections, type CLOUD_SECTIONS, type CloudConfig } from '@stratus/runtime';
import { SERVICES } from './services.js';

export interface CommonFlags {
  config?: string;
  dataDir?: string;
  portOffset?: number;
  bind?: string;
}

/** Every configuration section of this build: the core ones and each service's. */
export const SECTIONS = cloudSections(SERVICES);

/** The configuration with command-line flags on top (they win over file and environment). */
export function configFromFlags(
  flags: CommonFlags,
  more: Record<string, Record<string, unknown>> = {},
): CloudConfig {
  const core: NonNullable<ConfigOverrides<typeof CLOUD_SECTIONS>['core']> = {};
  if (flags.dataDir !== undefined) core.data_dir = flags.dataDir;
  if (flags.portOffset !== undefined) core.port_offset = flags.portOffset;
  if (flags.bind !== undefined) core.bind_host = flags.bind;
  // Loaded with every section; typed by the core ones, services read theirs via settings().
  return loadConfig({
    sections: SECTIONS,
    file: flags.config,
    overrides: { ...more, core },
  }) as unknown as CloudConfig;
}

export function parsePortOffset(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new Error(`--port-offset must be a non-negative integer, got "${value}"`);
  }
  return n;
}
