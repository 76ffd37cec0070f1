import type { RuleDefault } from '@stratus/policy';

const SYSTEM_READER = 'role:reader and system_scope:all';
const ADMIN_OR_SYSTEM_READER_OR_CRED_OWNER = `(rule:admin_required) or (${SYSTEM_READER}) or user_id:%(target.credential.user_id)s`;
const ADMIN_OR_CRED_OWNER = '(rule:admin_required) or user_id:%(target.credential.user_id)s';
const ADMIN_OR_SYSTEM_READER_OR_OWNER = `(rule:admin_required) or (${SYSTEM_READER}) or rule:owner`;
const APP_CREDS = '/v3/users/{user_id}/application_credentials';
const ACCESS_RULES = '/v3/users/{user_id}/access_rules';

/**
 * Keystone's credential, application credential and access rule rules
 * (keystone/common/policies/{credential,application_credential,access_rule}.py). One
 * deliberate difference: access rules also allow `rule:admin_required`, so that a
 * project-scoped admin token (what bootstrap hands out) can manage them as it can
 * everything else; upstream only allows a system reader/admin or the owner.
 */
export const credentialPolicies: readonly RuleDefault[] = [
  {
    name: 'identity:get_credential',
    check_str: ADMIN_OR_SYSTEM_READER_OR_CRED_OWNER,
    scope_types: ['system', 'domain', 'project'],
    description: 'Show credentials details.',
    operations: [{ method: 'GET', path: '/v3/credentials/{credential_id}' }],
  },
  {
    name: 'identity:list_credentials',
    check_str: ADMIN_OR_SYSTEM_READER_OR_CRED_OWNER,
    scope_types: ['system', 'domain', 'project'],
    description: 'List credentials.',
    operations: [{ method: 'GET', path: '/v3/credentials' }],
  },
  {
    name: 'identity:create_credential',
    check_str: ADMIN_OR_CRED_OWNER,
    scope_types: ['system', 'domain', 'project'],
    description: 'Create credential.',
    operations: [{ method: 'POST', path: '/v3/credentials' }],
  },
  {
    name: 'identity:update_credential',
    check_str: ADMIN_OR_CRED_OWNER,
    scope_types: ['system', 'domain', 'project'],
    description: 'Update credential.',
    operations: [{ method: 'PATCH', path: '/v3/credentials/{credential_id}' }],
  },
  {
    name: 'identity:delete_credential',
    check_str: ADMIN_OR_CRED_OWNER,
    scope_types: ['system', 'domain', 'project'],
    description: 'Delete credential.',
    operations: [{ method: 'DELETE', path: '/v3/credentials/{credential_id}' }],
  },
  {
    name: 'identity:get_application_credential',
    check_str: ADMIN_OR_SYSTEM_READER_OR_OWNER,
    scope_types: ['system', 'project'],
    description: 'Show application credential details.',
    operations: [
      { method: 'GET', path: `${APP_CREDS}/{application_credential_id}` },
      { method: 'HEAD', path: `${APP_CREDS}/{application_credential_id}` },
    ],
  },
  {
    name: 'identity:list_application_credentials',
    check_str: ADMIN_OR_SYSTEM_READER_OR_OWNER,
    scope_types: ['system', 'project'],
    description: 'List application credentials for a user.',
    operations: [
      { method: 'GET', path: APP_CREDS },
      { method: 'HEAD', path: APP_CREDS },
    ],
  },
  {
    name: 'identity:create_application_credential',
    check_str: 'user_id:%(user_id)s',
    scope_types: ['project'],
    description: 'Create an application credential.',
    operations: [{ method: 'POST', path: APP_CREDS }],
  },
  {
    name: 'identity:delete_application_credential',
    check_str: 'rule:admin_or_owner',
    scope_types: ['system', 'project'],
    description: 'Delete an application credential.',
    operations: [{ method: 'DELETE', path: `${APP_CREDS}/{application_credential_id}` }],
  },
  {
    name: 'identity:get_access_rule',
    check_str: `rule:admin_required or (${SYSTEM_READER}) or user_id:%(target.user.id)s`,
    scope_types: ['system', 'project'],
    description: 'Show access rule details.',
    operations: [
      { method: 'GET', path: `${ACCESS_RULES}/{access_rule_id}` },
      { method: 'HEAD', path: `${ACCESS_RULES}/{access_rule_id}` },
    ],
  },
  {
    name: 'identity:list_access_rules',
    check_str: `rule:admin_required or (${SYSTEM_READER}) or user_id:%(target.user.id)s`,
    scope_types: ['system', 'project'],
    description: 'List access rules for a user.',
    operations: [
      { method: 'GET', path: ACCESS_RULES },
      { method: 'HEAD', path: ACCESS_RULES },
    ],
  },
  {
    name: 'identity:delete_access_rule',
    check_str:
      'rule:admin_required or (role:admin and system_scope:all) or user_id:%(target.user.id)s',
    scope_types: ['system', 'project'],
    description: 'Delete an access rule.',
    operations: [{ method: 'DELETE', path: `${ACCESS_RULES}/{access_rule_id}` }],
  },
];
