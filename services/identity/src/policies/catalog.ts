import type { RuleDefault } from '@stratus/policy';

const ADMIN = 'rule:admin_required';
const ADMIN_OR_SYSTEM_READER = 'rule:admin_required or (role:reader and system_scope:all)';

/** Keystone's region, service and endpoint rules (keystone/common/policies/{region,service,endpoint}.py). */
export const catalogPolicies: readonly RuleDefault[] = [
  {
    name: 'identity:get_region',
    check_str: '',
    scope_types: ['system', 'domain', 'project'],
    description: 'Show region details.',
    operations: [
      { method: 'GET', path: '/v3/regions/{region_id}' },
      { method: 'HEAD', path: '/v3/regions/{region_id}' },
    ],
  },
  {
    name: 'identity:list_regions',
    check_str: '',
    scope_types: ['system', 'domain', 'project'],
    description: 'List regions.',
    operations: [
      { method: 'GET', path: '/v3/regions' },
      { method: 'HEAD', path: '/v3/regions' },
    ],
  },
  {
    name: 'identity:create_region',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Create region.',
    operations: [
      { method: 'POST', path: '/v3/regions' },
      { method: 'PUT', path: '/v3/regions/{region_id}' },
    ],
  },
  {
    name: 'identity:update_region',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Update region.',
    operations: [{ method: 'PATCH', path: '/v3/regions/{region_id}' }],
  },
  {
    name: 'identity:delete_region',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Delete region.',
    operations: [{ method: 'DELETE', path: '/v3/regions/{region_id}' }],
  },
  {
    name: 'identity:get_service',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'Show service details.',
    operations: [{ method: 'GET', path: '/v3/services/{service_id}' }],
  },
  {
    name: 'identity:list_services',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'List services.',
    operations: [{ method: 'GET', path: '/v3/services' }],
  },
  {
    name: 'identity:create_service',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Create service.',
    operations: [{ method: 'POST', path: '/v3/services' }],
  },
  {
    name: 'identity:update_service',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Update service.',
    operations: [{ method: 'PATCH', path: '/v3/services/{service_id}' }],
  },
  {
    name: 'identity:delete_service',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Delete service.',
    operations: [{ method: 'DELETE', path: '/v3/services/{service_id}' }],
  },
  {
    name: 'identity:get_endpoint',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'Show endpoint details.',
    operations: [{ method: 'GET', path: '/v3/endpoints/{endpoint_id}' }],
  },
  {
    name: 'identity:list_endpoints',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'List endpoints.',
    operations: [{ method: 'GET', path: '/v3/endpoints' }],
  },
  {
    name: 'identity:create_endpoint',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Create endpoint.',
    operations: [{ method: 'POST', path: '/v3/endpoints' }],
  },
  {
    name: 'identity:update_endpoint',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Update endpoint.',
    operations: [{ method: 'PATCH', path: '/v3/endpoints/{endpoint_id}' }],
  },
  {
    name: 'identity:delete_endpoint',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Delete endpoint.',
    operations: [{ method: 'DELETE', path: '/v3/endpoints/{endpoint_id}' }],
  },
];
