import { randomBytes } from 'node:crypto';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';

/**
 * The secrets an all-in-one cloud keeps in its data directory between starts. They
 * are generated on the first start, so a second `up` on the same directory finds the
 * same admin password; the file is readable by its owner only.
 */
export interface CloudSecrets {
  admin_password: string;
  /** The service users' password (service_auth.password). */
  service_password: string;
}

const SECRETS_FILE = 'secrets.yaml';

export async function loadOrCreateSecrets(
  dataDir: string,
  preset: Partial<CloudSecrets> = {},
): Promise<{ secrets: CloudSecrets; created: boolean }> {
  const path = join(dataDir, SECRETS_FILE);
  let existing: Partial<CloudSecrets> = {};
  let created = false;
  try {
    existing = (YAML.parse(await readFile(path, 'utf8')) as Partial<CloudSecrets> | null) ?? {};
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    created = true;
  }
  const secrets: CloudSecrets = {
    admin_password:
      preset.admin_password || existing.admin_password || randomBytes(18).toString('base64url'),
    service_password:
      preset.service_password || existing.service_password || randomBytes(18).toString('base64url'),
  };
  if (
    created ||
    secrets.admin_password !== existing.admin_password ||
    secrets.service_password !== existing.service_password
  ) {
    await writePrivate(path, YAML.stringify(secrets));
  }
  return { secrets, created };
}

export interface ClientCredentials {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  region: string;
}

/** clouds.yaml for the `openstack` CLI and openstacksdk, cloud name `stratus`. */
export function cloudsYaml(c: ClientCredentials): string {
  return YAML.stringify({
    clouds: {
      stratus: {
        auth: {
          auth_url: c.authUrl,
          username: c.username,
          password: c.password,
          project_name: c.projectName,
          user_domain_name: 'Default',
          project_domain_name: 'Default',
        },
        region_name: c.region,
        interface: 'public',
        identity_api_version: 3,
      },
    },
  });
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** An openrc to `source` in a shell, equivalent to the clouds.yaml entry. */
export function openrc(c: ClientCredentials): string {
  const vars: Array<[string, string]> = [
    ['OS_AUTH_URL', c.authUrl],
    ['OS_IDENTITY_API_VERSION', '3'],
    ['OS_USERNAME', c.username],
    ['OS_PASSWORD', c.password],
    ['OS_PROJECT_NAME', c.projectName],
    ['OS_USER_DOMAIN_NAME', 'Default'],
    ['OS_PROJECT_DOMAIN_NAME', 'Default'],
    ['OS_REGION_NAME', c.region],
    ['OS_INTERFACE', 'public'],
  ];
  return vars.map(([k, v]) => `export ${k}=${shellQuote(v)}`).join('\n') + '\n';
}

/** Writes a file readable only by its owner, atomically (a crash leaves the old one). */
export async function writePrivate(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}
