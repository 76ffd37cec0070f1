// Finding the running Stratus cloud: its data directory and the clouds.yaml `stratus up`
// writes there.
import { homedir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';

/**
 * Where `stratus up` keeps its state when core.data_dir is empty: the same rule as
 * defaultDataDir() in packages/config/src/core.ts.
 */
export function defaultCloudDir(uid = process.getuid?.(), home = homedir()) {
  return uid === 0 ? '/var/lib/stratus' : join(home, '.local', 'share', 'stratus');
}

/**
 * Reads the admin credentials of one cloud from clouds.yaml text. Returns
 * { authUrl, uriV3, username, password, projectName, userDomainName, projectDomainName,
 *   region, interface }.
 */
export function parseCloudsYaml(text, cloudName = 'stratus', file = 'clouds.yaml') {
  const doc = YAML.parse(text) ?? {};
  const cloud = doc.clouds?.[cloudName];
  if (!cloud) {
    const names = Object.keys(doc.clouds ?? {});
    throw new Error(
      `${file} has no cloud named '${cloudName}'${names.length ? ` (it has: ${names.join(', ')})` : ''}`,
    );
  }
  const auth = cloud.auth ?? {};
  const missing = ['auth_url', 'username', 'password', 'project_name'].filter((k) => !auth[k]);
  if (missing.length)
    throw new Error(`${file}: cloud '${cloudName}' lacks auth.${missing.join(', auth.')}`);
  const authUrl = String(auth.auth_url).replace(/\/+$/, '');
  const userDomainName = auth.user_domain_name ?? auth.domain_name ?? 'Default';
  return {
    authUrl,
    uriV3: /\/v3$/.test(authUrl) ? authUrl : `${authUrl}/v3`,
    username: String(auth.username),
    password: String(auth.password),
    projectName: String(auth.project_name),
    userDomainName,
    projectDomainName: auth.project_domain_name ?? userDomainName,
    region: cloud.region_name ?? 'RegionOne',
    interface: cloud.interface ?? 'public',
  };
}
