import type { RuleDefault } from '@stratus/policy';

const ADMIN = 'rule:admin_required';
const ADMIN_OR_SYSTEM_READER = 'rule:admin_required or (role:reader and system_scope:all)';
const EG = '/v3/OS-EP-FILTER/endpoint_groups';

/** Keystone's OS-EP-FILTER endpoint group rules (keystone/common/policies/endpoint_group.py). */
export const endpointGroupPolicies: readonly RuleDefault[] = [
  {
    name: 'identity:create_endpoint_group',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Create endpoint group.',
    operations: [{ method: 'POST', path: EG }],
  },
  {
    name: 'identity:list_endpoint_groups',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'List endpoint groups.',
    operations: [{ method: 'GET', path: EG }],
  },
  {
    name: 'identity:get_endpoint_group',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'Get endpoint group.',
    operations: [
      { method: 'GET', path: `${EG}/{endpoint_group_id}` },
      { method: 'HEAD', path: `${EG}/{endpoint_group_id}` },
    ],
  },
  {
    name: 'identity:update_endpoint_group',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Update endpoint group.',
    operations: [{ method: 'PATCH', path: `${EG}/{endpoint_group_id}` }],
  },
  {
    name: 'identity:delete_endpoint_group',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Delete endpoint group.',
    operations: [{ method: 'DELETE', path: `${EG}/{endpoint_group_id}` }],
  },
  {
    name: 'identity:list_projects_associated_with_endpoint_group',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'List all projects associated with a specific endpoint group.',
    operations: [{ method: 'GET', path: `${EG}/{endpoint_group_id}/projects` }],
  },
  {
    name: 'identity:list_endpoints_associated_with_endpoint_group',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'List all endpoints associated with an endpoint group.',
    operations: [{ method: 'GET', path: `${EG}/{endpoint_group_id}/endpoints` }],
  },
  {
    name: 'identity:get_endpoint_group_in_project',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'Check if an endpoint group is associated with a project.',
    operations: [
      { method: 'GET', path: `${EG}/{endpoint_group_id}/projects/{project_id}` },
      { method: 'HEAD', path: `${EG}/{endpoint_group_id}/projects/{project_id}` },
    ],
  },
  {
    name: 'identity:list_endpoint_groups_for_project',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'List endpoint groups associated with a specific project.',
    operations: [{ method: 'GET', path: '/v3/OS-EP-FILTER/projects/{project_id}/endpoint_groups' }],
  },
  {
    name: 'identity:add_endpoint_group_to_project',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Allow a project to access an endpoint group.',
    operations: [{ method: 'PUT', path: `${EG}/{endpoint_group_id}/projects/{project_id}` }],
  },
  {
    name: 'identity:remove_endpoint_group_from_project',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Remove endpoint group from project.',
    operations: [{ method: 'DELETE', path: `${EG}/{endpoint_group_id}/projects/{project_id}` }],
  },
];
