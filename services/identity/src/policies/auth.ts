import type { RuleDefault } from '@stratus/policy';

const ADMIN_OR_SYSTEM_READER = 'rule:admin_required or (role:reader and system_scope:all)';
const ADMIN_OR_OWNER_TOKEN = `${ADMIN_OR_SYSTEM_READER} or user_id:%(target.token.user_id)s`;

/** Keystone's token and auth rules (keystone/common/policies/token.py, auth.py). */
export const authPolicies: readonly RuleDefault[] = [
  {
    name: 'identity:check_token',
    check_str: `${ADMIN_OR_OWNER_TOKEN} or rule:service_role`,
    scope_types: ['system', 'domain', 'project'],
    description: 'Check a token.',
    operations: [{ method: 'HEAD', path: '/v3/auth/tokens' }],
  },
  {
    name: 'identity:validate_token',
    check_str: `${ADMIN_OR_OWNER_TOKEN} or rule:service_role`,
    scope_types: ['system', 'domain', 'project'],
    description: 'Validate a token.',
    operations: [{ method: 'GET', path: '/v3/auth/tokens' }],
  },
  {
    name: 'identity:revoke_token',
    check_str: `rule:admin_required or rule:service_role or user_id:%(target.token.user_id)s`,
    scope_types: ['system', 'domain', 'project'],
    description: 'Revoke a token.',
    operations: [{ method: 'DELETE', path: '/v3/auth/tokens' }],
  },
  {
    name: 'identity:get_auth_catalog',
    check_str: '',
    description: 'Get the service catalog of the token.',
    operations: [{ method: 'GET', path: '/v3/auth/catalog' }],
  },
  {
    name: 'identity:get_auth_projects',
    check_str: '',
    description: 'List the projects the token user can scope to.',
    operations: [{ method: 'GET', path: '/v3/auth/projects' }],
  },
  {
    name: 'identity:get_auth_domains',
    check_str: '',
    description: 'List the domains the token user can scope to.',
    operations: [{ method: 'GET', path: '/v3/auth/domains' }],
  },
  {
    name: 'identity:get_auth_system',
    check_str: '',
    description: 'List the system scopes the token user can scope to.',
    operations: [{ method: 'GET', path: '/v3/auth/system' }],
  },
];
