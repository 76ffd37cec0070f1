import {
  coreSection,
  defineSection,
  logSection,
  type ConfigOf,
  type Section,
} from '@stratus/config';
import Type, { type Static } from 'typebox';

export const databaseSection = defineSection(
  'database',
  Type.Object(
    {
      url: Type.String({
        default: '',
        secret: true,
        description:
          'Where the service databases live: postgresql://…, mysql://… or sqlite:///path. ' +
          '{service} in the URL is replaced by the service name (one database per service). ' +
          'Empty: one SQLite file per service in core.data_dir.',
      }),
      pool_max: Type.Integer({
        minimum: 1,
        default: 10,
        description: 'Connections per service database pool (PostgreSQL and MySQL).',
      }),
      busy_timeout_ms: Type.Integer({
        minimum: 0,
        default: 5000,
        description: 'How long SQLite waits for a lock before failing a statement.',
      }),
      auto_create: Type.Boolean({
        default: true,
        description: 'Create a missing PostgreSQL or MySQL database on start.',
      }),
    },
    { description: 'The databases of the services on this node.' },
  ),
);

export const busSection = defineSection(
  'bus',
  Type.Object(
    {
      transport: Type.Enum(['memory', 'amqp'], {
        default: 'memory',
        description:
          'memory: in-process, for the all-in-one; amqp: RabbitMQ, for several processes or nodes.',
      }),
      url: Type.String({
        default: 'amqp://guest:guest@127.0.0.1:5672/',
        secret: true,
        description: 'The RabbitMQ URL when transport is amqp.',
      }),
      exchange: Type.String({
        minLength: 1,
        default: 'stratus',
        description: 'The AMQP exchange every service of this cloud shares.',
      }),
      rpc_timeout_ms: Type.Integer({
        minimum: 1,
        default: 60000,
        description: 'How long an RPC call waits for its reply.',
      }),
    },
    { description: 'The message bus: RPC between the roles of a service, and notifications.' },
  ),
);

export const apiSection = defineSection(
  'api',
  Type.Object(
    {
      body_limit_bytes: Type.Integer({
        minimum: 1024,
        default: 1048576,
        description: 'The largest JSON request body an API accepts (413 beyond).',
      }),
    },
    { description: 'Settings shared by every HTTP API.' },
  ),
);

export const serviceAuthSection = defineSection(
  'service_auth',
  Type.Object(
    {
      auth_url: Type.String({
        default: '',
        description:
          "The identity endpoint services validate tokens at (keystonemiddleware's auth_url). Empty: this cloud's identity service.",
      }),
      password: Type.String({
        default: '',
        secret: true,
        description:
          'Password of the service users (glance, …) that validate tokens. `stratus up` generates one; set the same on every node.',
      }),
      project: Type.String({
        minLength: 1,
        default: 'service',
        description: 'The project the service users are scoped to.',
      }),
      domain: Type.String({
        minLength: 1,
        default: 'Default',
        description: 'The domain of the service users and of their project.',
      }),
    },
    { description: "How services authenticate their callers' tokens with identity." },
  ),
);

/** Every section Stratus knows, in the order the sample prints them. */
export const CLOUD_SECTIONS = [
  coreSection,
  logSection,
  databaseSection,
  busSection,
  apiSection,
  serviceAuthSection,
] as const;

export type CloudConfig = ConfigOf<typeof CLOUD_SECTIONS>;

/** Every section a cloud made of these services reads: the core ones, then each service's. */
export function cloudSections(
  services: readonly { configSections?: readonly Section[] }[],
): readonly Section[] {
  return [...CLOUD_SECTIONS, ...services.flatMap((s) => s.configSections ?? [])];
}

/** One section's values from a configuration loaded with `cloudSections`. */
export function sectionSettings<S extends Section>(
  config: CloudConfig,
  section: S,
): Readonly<Static<S['schema']>> {
  const values = (config as unknown as Record<string, unknown>)[section.name];
  if (values === undefined) throw new Error(`config section ${section.name} was not loaded`);
  return values as Readonly<Static<S['schema']>>;
}
