import type { RuleDefault } from '@stratus/policy';

const ADMIN = 'rule:admin_required';
const ADMIN_OR_SYSTEM_READER = 'rule:admin_required or (role:reader and system_scope:all)';
const CONFIG = '/v3/domains/{domain_id}/config';

const everyLevel = (method: string) => [
  { method, path: CONFIG },
  { method, path: `${CONFIG}/{group}` },
  { method, path: `${CONFIG}/{group}/{option}` },
];

/** Keystone's domain configuration rules (keystone/common/policies/domain_config.py). */
export const domainConfigPolicies: readonly RuleDefault[] = [
  {
    name: 'identity:create_domain_config',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Create domain configuration.',
    operations: [{ method: 'PUT', path: CONFIG }],
  },
  {
    name: 'identity:get_domain_config',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description:
      'Get the entire domain configuration for a domain, an option group within a domain, or a specific configuration option within a group for a domain.',
    operations: [...everyLevel('GET'), ...everyLevel('HEAD')],
  },
  {
    name: 'identity:get_security_compliance_domain_config',
    // Anyone with a valid token: clients show the password rules before a change.
    check_str: '',
    scope_types: ['system', 'domain', 'project'],
    description:
      'Get security compliance domain configuration for either a domain or a specific option in a domain.',
    operations: [
      { method: 'GET', path: `${CONFIG}/security_compliance` },
      { method: 'HEAD', path: `${CONFIG}/security_compliance` },
      { method: 'GET', path: `${CONFIG}/security_compliance/{option}` },
      { method: 'HEAD', path: `${CONFIG}/security_compliance/{option}` },
    ],
  },
  {
    name: 'identity:update_domain_config',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description:
      'Update domain configuration for either a domain, specific group or a specific option in a group.',
    operations: everyLevel('PATCH'),
  },
  {
    name: 'identity:delete_domain_config',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description:
      'Delete domain configuration for either a domain, specific group or a specific option in a group.',
    operations: everyLevel('DELETE'),
  },
  {
    name: 'identity:get_domain_config_default',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description:
      'Get domain configuration default for either a domain, specific group or a specific option in a group.',
    operations: ['GET', 'HEAD'].flatMap((method) => [
      { method, path: '/v3/domains/config/default' },
      { method, path: '/v3/domains/config/{group}/default' },
      { method, path: '/v3/domains/config/{group}/{option}/default' },
    ]),
  },
];
