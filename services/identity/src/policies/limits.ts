import type { RuleDefault } from '@stratus/policy';

const ADMIN = 'rule:admin_required';
const ADMIN_OR_SYSTEM_OR_DOMAIN_OR_PROJECT_USER =
  'rule:admin_required or (role:reader and system_scope:all) or ' +
  '(domain_id:%(target.limit.domain.id)s or domain_id:%(target.limit.project.domain_id)s) or ' +
  '(project_id:%(target.limit.project_id)s and not None:%(target.limit.project_id)s)';

/** Keystone's unified limit rules (keystone/common/policies/{registered_limit,limit}.py). */
export const limitPolicies: readonly RuleDefault[] = [
  {
    name: 'identity:get_registered_limit',
    check_str: '',
    scope_types: ['system', 'domain', 'project'],
    description: 'Show registered limit details.',
    operations: [
      { method: 'GET', path: '/v3/registered_limits/{registered_limit_id}' },
      { method: 'HEAD', path: '/v3/registered_limits/{registered_limit_id}' },
    ],
  },
  {
    name: 'identity:list_registered_limits',
    check_str: '',
    scope_types: ['system', 'domain', 'project'],
    description: 'List registered limits.',
    operations: [
      { method: 'GET', path: '/v3/registered_limits' },
      { method: 'HEAD', path: '/v3/registered_limits' },
    ],
  },
  {
    name: 'identity:create_registered_limits',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Create registered limits.',
    operations: [{ method: 'POST', path: '/v3/registered_limits' }],
  },
  {
    name: 'identity:update_registered_limit',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Update registered limit.',
    operations: [{ method: 'PATCH', path: '/v3/registered_limits/{registered_limit_id}' }],
  },
  {
    name: 'identity:delete_registered_limit',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Delete registered limit.',
    operations: [{ method: 'DELETE', path: '/v3/registered_limits/{registered_limit_id}' }],
  },
  {
    name: 'identity:get_limit_model',
    check_str: '',
    scope_types: ['system', 'domain', 'project'],
    description: 'Get limit enforcement model.',
    operations: [
      { method: 'GET', path: '/v3/limits/model' },
      { method: 'HEAD', path: '/v3/limits/model' },
    ],
  },
  {
    name: 'identity:get_limit',
    check_str: ADMIN_OR_SYSTEM_OR_DOMAIN_OR_PROJECT_USER,
    scope_types: ['system', 'domain', 'project'],
    description: 'Show limit details.',
    operations: [
      { method: 'GET', path: '/v3/limits/{limit_id}' },
      { method: 'HEAD', path: '/v3/limits/{limit_id}' },
    ],
  },
  {
    name: 'identity:list_limits',
    check_str: '',
    scope_types: ['system', 'domain', 'project'],
    description: 'List limits.',
    operations: [
      { method: 'GET', path: '/v3/limits' },
      { method: 'HEAD', path: '/v3/limits' },
    ],
  },
  {
    name: 'identity:create_limits',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Create limits.',
    operations: [{ method: 'POST', path: '/v3/limits' }],
  },
  {
    name: 'identity:update_limit',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Update limit.',
    operations: [{ method: 'PATCH', path: '/v3/limits/{limit_id}' }],
  },
  {
    name: 'identity:delete_limit',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Delete limit.',
    operations: [{ method: 'DELETE', path: '/v3/limits/{limit_id}' }],
  },
];
