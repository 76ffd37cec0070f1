// Generating the workspace's etc/tempest.conf from the cloud's clouds.yaml and
// capabilities.yaml. Option names are those of Tempest 33 (tempest/config.py).
import { isAvailable } from './capabilities.mjs';
import { OTHER_AVAILABILITY_FLAGS, SERVICES } from './services.mjs';

/**
 * The settings the harness owns, as { section: { option: value } }.
 *
 * cloud: parseCloudsYaml() output, or null (listing tests needs no cloud).
 * capabilities: parseCapabilities() output.
 * imageRef / flavorRef: override capabilities' services.compute.image_ref / flavor_ref.
 * overrides: extra { section: { option: value } } applied last (e.g. from --set).
 */
export function buildTempestConf({ cloud, capabilities, imageRef, flavorRef, overrides = {} }) {
  const conf = {};
  const set = (section, option, value) => {
    if (value === undefined || value === null) return;
    (conf[section] ??= {})[option] = value;
  };

  // Dynamic credentials: Tempest creates a project and user per test class with the admin.
  set('auth', 'use_dynamic_credentials', true);
  set('auth', 'create_isolated_networks', isAvailable(capabilities, 'network'));
  set('identity', 'auth_version', 'v3');
  if (cloud) {
    set('auth', 'admin_username', cloud.username);
    set('auth', 'admin_password', cloud.password);
    set('auth', 'admin_project_name', cloud.projectName);
    set('auth', 'admin_domain_name', cloud.userDomainName);
    set('auth', 'admin_user_domain_name', cloud.userDomainName);
    set('auth', 'admin_project_domain_name', cloud.projectDomainName);
    set('identity', 'uri_v3', cloud.uriV3);
    set('identity', 'region', cloud.region);
    // Tempest's default is the admin interface; Stratus's catalog is public.
    set('identity', 'v3_endpoint_type', cloud.interface);
  } else {
    set('identity', 'v3_endpoint_type', 'public');
  }

  for (const [option, value] of Object.entries(capabilities.identityFeatures))
    set('identity-feature-enabled', option, value);

  // Tempest assumes nova, glance, cinder, swift and horizon are there unless told: say it
  // for every service, from capabilities.yaml alone.
  for (const [service, { flag }] of Object.entries(SERVICES))
    if (flag) set('service_available', flag, isAvailable(capabilities, service));
  for (const [service, flag] of Object.entries(OTHER_AVAILABILITY_FLAGS))
    set('service_available', flag, isAvailable(capabilities, service));

  // API tests only: nothing logs into a guest, so no bootable image is needed.
  set('validation', 'run_validation', false);

  if (isAvailable(capabilities, 'compute')) {
    const compute = capabilities.services.compute;
    const image = imageRef ?? compute.image_ref;
    const flavor = flavorRef ?? compute.flavor_ref;
    set('compute', 'image_ref', image);
    set('compute', 'image_ref_alt', compute.image_ref_alt ?? image);
    set('compute', 'flavor_ref', flavor);
    set('compute', 'flavor_ref_alt', compute.flavor_ref_alt ?? flavor);
  }

  for (const extra of [capabilities.tempestConf, overrides])
    for (const [section, opts] of Object.entries(extra ?? {}))
      for (const [option, value] of Object.entries(opts)) set(section, option, value);
  return conf;
}

/** What is missing for a run: compute tests need an image and a flavor. */
export function confProblems(conf, capabilities, services) {
  const problems = [];
  if (services.includes('compute') && isAvailable(capabilities, 'compute')) {
    for (const option of ['image_ref', 'flavor_ref'])
      if (!conf.compute?.[option])
        problems.push(
          `compute is available but [compute] ${option} is not set: set services.compute.${option} in capabilities.yaml or pass --${option.replace('_', '-')}`,
        );
  }
  return problems;
}

/** A minimal INI reader for the file `tempest init` writes: { section: { option: value } }. */
export function parseIni(text) {
  const conf = {};
  let section = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = header[1];
      conf[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq === -1 || section === null) continue;
    conf[section][line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return conf;
}

/** One value as oslo.config reads it back: lists comma-joined, `$` escaped as `$$`. */
export function iniValue(value) {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return value.map((v) => iniValue(v)).join(',');
  const s = String(value);
  if (/[\r\n]/.test(s)) throw new Error(`a tempest.conf value cannot span lines: ${s}`);
  return s.replace(/\$/g, '$$$$');
}

/**
 * Renders sections as INI text. `base` holds what is already in the file (values read
 * back raw by parseIni, so they are written unchanged); `conf` wins over it.
 */
export function renderIni(conf, base = {}) {
  const sections = [...new Set([...Object.keys(base), ...Object.keys(conf)])];
  sections.sort((a, b) => (a === 'DEFAULT' ? -1 : b === 'DEFAULT' ? 1 : a.localeCompare(b)));
  const out = ['# Written by tests/conformance/run.mjs from clouds.yaml and capabilities.yaml.'];
  for (const section of sections) {
    out.push('', `[${section}]`);
    const raw = { ...base[section] };
    for (const [option, value] of Object.entries(conf[section] ?? {}))
      raw[option] = iniValue(value);
    for (const [option, value] of Object.entries(raw))
      out.push(`${option} =${value ? ` ${value}` : ''}`);
  }
  return out.join('\n') + '\n';
}
