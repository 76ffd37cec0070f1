import type { RuleDefault } from '@stratus/policy';

const ADMIN = 'rule:admin_required';
const ADMIN_OR_SYSTEM_READER = 'rule:admin_required or (role:reader and system_scope:all)';

/**
 * Keystone's rules for its deprecated policy-blob API, /v3/policies
 * (keystone/common/policies/policy.py). Upstream reads are for a system reader and writes
 * for a system admin, scoped to `system` only; as in the catalog rules, a project-scoped
 * admin (what bootstrap hands out) is allowed too, through `rule:admin_required`.
 */
export const policyBlobPolicies: readonly RuleDefault[] = [
  {
    name: 'identity:get_policy',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'Show policy details.',
    operations: [{ method: 'GET', path: '/v3/policies/{policy_id}' }],
  },
  {
    name: 'identity:list_policies',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'List policies.',
    operations: [{ method: 'GET', path: '/v3/policies' }],
  },
  {
    name: 'identity:create_policy',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Create policy.',
    operations: [{ method: 'POST', path: '/v3/policies' }],
  },
  {
    name: 'identity:update_policy',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Update policy.',
    operations: [{ method: 'PATCH', path: '/v3/policies/{policy_id}' }],
  },
  {
    name: 'identity:delete_policy',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Delete policy.',
    operations: [{ method: 'DELETE', path: '/v3/policies/{policy_id}' }],
  },
];
