// tests/conformance/capabilities.yaml: what Stratus offers now, which the harness turns
// into tempest.conf settings.
import YAML from 'yaml';
import { OTHER_AVAILABILITY_FLAGS, SERVICES } from './services.mjs';

/** The options of Tempest 33's [identity-feature-enabled] group and their types. */
export const IDENTITY_FEATURE_OPTIONS = {
  trust: 'bool',
  api_v2: 'bool',
  api_v2_admin: 'bool',
  api_v3: 'bool',
  api_extensions: 'list',
  domain_specific_drivers: 'bool',
  security_compliance: 'bool',
  project_tags: 'bool',
  application_credentials: 'bool',
  access_rules: 'bool',
  immutable_user_source: 'bool',
};

const KNOWN_SERVICES = [...Object.keys(SERVICES), ...Object.keys(OTHER_AVAILABILITY_FLAGS)];

/** Parses and checks capabilities.yaml text; throws on anything it does not understand. */
export function parseCapabilities(text, file = 'capabilities.yaml') {
  const doc = YAML.parse(text) ?? {};
  const errors = [];
  const services = {};
  for (const [name, entry] of Object.entries(doc.services ?? {})) {
    if (!KNOWN_SERVICES.includes(name)) {
      errors.push(`services.${name}: unknown service (known: ${KNOWN_SERVICES.join(', ')})`);
      continue;
    }
    if (typeof entry?.available !== 'boolean') {
      errors.push(`services.${name}.available must be true or false`);
      continue;
    }
    services[name] = { ...entry };
  }
  for (const name of KNOWN_SERVICES)
    if (!(name in services) && !errors.some((e) => e.startsWith(`services.${name}.`)))
      errors.push(`services.${name} is missing: say whether Stratus offers it`);

  const identityFeatures = {};
  for (const [key, value] of Object.entries(doc.identity_features ?? {})) {
    const type = IDENTITY_FEATURE_OPTIONS[key];
    if (!type)
      errors.push(`identity_features.${key}: not a Tempest [identity-feature-enabled] option`);
    else if (type === 'bool' && typeof value !== 'boolean')
      errors.push(`identity_features.${key} must be true or false`);
    else if (type === 'list' && !Array.isArray(value))
      errors.push(`identity_features.${key} must be a list`);
    else identityFeatures[key] = value;
  }

  const tempestConf = doc.tempest_conf ?? {};
  if (typeof tempestConf !== 'object' || Array.isArray(tempestConf))
    errors.push('tempest_conf must map section → option → value');
  else
    for (const [section, opts] of Object.entries(tempestConf))
      if (!opts || typeof opts !== 'object' || Array.isArray(opts))
        errors.push(`tempest_conf.${section} must map option → value`);

  if (errors.length) throw new Error(`${file}:\n  ${errors.join('\n  ')}`);
  return { services, identityFeatures, tempestConf };
}

export function isAvailable(capabilities, service) {
  return capabilities.services[service]?.available === true;
}
