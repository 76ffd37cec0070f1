import type { RuleDefault } from '@stratus/policy';

const ADMIN = 'rule:admin_required';
const ADMIN_OR_SYSTEM_READER = 'rule:admin_required or (role:reader and system_scope:all)';
const CONSUMERS = '/v3/OS-OAUTH1/consumers';

/**
 * Keystone's OAuth1 consumer rules (keystone/common/policies/consumer.py). Upstream lets
 * a system reader show and list consumers and a system admin change them, scoped to
 * `system` only; as in the catalog rules, a project-scoped admin is allowed too, through
 * `rule:admin_required`. Request and access tokens are not served, so their rules
 * (authorize_request_token, *_access_token*) are not defined here.
 */
export const oauth1Policies: readonly RuleDefault[] = [
  {
    name: 'identity:get_consumer',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'Show OAUTH1 consumer details.',
    operations: [{ method: 'GET', path: `${CONSUMERS}/{consumer_id}` }],
  },
  {
    name: 'identity:list_consumers',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'List OAUTH1 consumers.',
    operations: [{ method: 'GET', path: CONSUMERS }],
  },
  {
    name: 'identity:create_consumer',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Create OAUTH1 consumer.',
    operations: [{ method: 'POST', path: CONSUMERS }],
  },
  {
    name: 'identity:update_consumer',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Update OAUTH1 consumer.',
    operations: [{ method: 'PATCH', path: `${CONSUMERS}/{consumer_id}` }],
  },
  {
    name: 'identity:delete_consumer',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Delete OAUTH1 consumer.',
    operations: [{ method: 'DELETE', path: `${CONSUMERS}/{consumer_id}` }],
  },
];
