import type { Logger } from '@stratus/common';
import type { Section } from '@stratus/config';
import type { Static } from 'typebox';
import type { Transport } from '@stratus/bus';
import type { Database, Migration } from '@stratus/db';
import type { Registry } from 'prom-client';
import type { PortName } from './ports.js';
import type { CloudConfig } from './sections.js';

/**
 * One OpenStack service as Stratus runs it: its database migrations and its separately
 * launchable roles. `stratus up` starts every role of every service in one process;
 * `stratus serve <service>:<role>` starts one.
 */
export interface ServiceDefinition {
  /** The package name under services/, e.g. `identity`. */
  name: string;
  /** Its OpenStack name, for humans: `Keystone v3`. */
  title: string;
  /** Applied on start and by `stratus db sync`; empty while the service stores nothing. */
  migrations: readonly Migration[];
  /** Where the service appears in the Keystone catalog: type, name, and the API's base path. */
  catalog?: { type: string; name: string; port: PortName; path: string };
  /** The service's own configuration sections (`identity:` …), loaded with the core ones. */
  configSections?: readonly Section[];
  roles: Record<string, RoleDefinition>;
}

export interface RoleDefinition {
  /** API roles listen on a standard port; agents listen on none. */
  port?: PortName;
  /** Agents have no database access: they work through their conductor over RPC. */
  usesDatabase: boolean;
  start(ctx: RoleContext): Promise<RunningRole>;
}

export interface RoleContext {
  service: string;
  role: string;
  config: CloudConfig;
  /** The values of one of the service's own configuration sections. */
  settings<S extends Section>(section: S): Readonly<Static<S['schema']>>;
  logger: Logger;
  /** The service's own database; present only for roles with `usesDatabase`. */
  database: Database<unknown> | undefined;
  bus: Transport;
  metrics: Registry;
  /** This node's name, for `<service>.<role>.<host>` topics. */
  host: string;
  /** Where to listen. */
  bindHost: string;
  port(name: PortName): number;
  /** The URL clients use for a port, as written into the catalog and clouds.yaml. */
  publicUrl(name: PortName): string;
  /** The catalog of every service in this cloud, for the identity service's bootstrap. */
  catalog: ReadonlyArray<{ type: string; name: string; url: string }>;
}

export interface RunningRole {
  /** Base URL clients use for an API role (public host). */
  url?: string;
  /** Base URL this node reaches the role by, probed for readiness at `<localUrl>/healthcheck`. */
  localUrl?: string;
  stop(): Promise<void>;
}
