import { homedir } from 'node:os';
import { join } from 'node:path';
import Type from 'typebox';
import { defineSection } from './section.js';

export const coreSection = defineSection(
  'core',
  Type.Object(
    {
      data_dir: Type.String({
        default: '',
        description:
          'Where Stratus keeps its databases, images, volumes and state. Empty: ~/.local/share/stratus, or /var/lib/stratus when run as root.',
      }),
      bind_host: Type.String({
        default: '127.0.0.1',
        description: 'The address every API service listens on.',
      }),
      public_host: Type.String({
        default: '',
        description:
          'The host name written into the catalog and clouds.yaml, which clients connect to. Empty: bind_host.',
      }),
      port_offset: Type.Integer({
        minimum: 0,
        default: 0,
        description:
          'Added to every standard port (5000, 8774, …), to run several clouds on one machine.',
      }),
      region: Type.String({
        minLength: 1,
        default: 'RegionOne',
        description: 'The region every catalog endpoint belongs to.',
      }),
      host: Type.String({
        default: '',
        description:
          "This node's name, used in RPC topics and agent records. Empty: the host name.",
      }),
    },
    { description: 'Settings shared by every service on this node.' },
  ),
);

export const logSection = defineSection(
  'log',
  Type.Object(
    {
      level: Type.Enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
        default: 'info',
        description: 'The least severe level that is written.',
      }),
      format: Type.Enum(['json', 'pretty'], {
        default: 'json',
        description: 'json: one object per line, for log collectors; pretty: for people.',
      }),
      file: Type.String({ default: '', description: 'Where logs go. Empty: stderr.' }),
    },
    { description: 'Logging.' },
  ),
);

/** Where core.data_dir points when left empty: the system location for root, else per user. */
export function defaultDataDir(uid = process.getuid?.(), home = homedir()): string {
  return uid === 0 ? '/var/lib/stratus' : join(home, '.local', 'share', 'stratus');
}
