import { rbac, type RuleDefault } from '@stratus/policy';

/*
 * Keystone's secure-RBAC defaults for users and groups (keystone/common/policies/user.py,
 * group.py). `rule:admin_required` (role:admin on any scope) allows everything, as in
 * Keystone; domain readers and managers act within their domain; a user may always read
 * itself and list its own groups. Changing one's own password is not a policy: it needs
 * the original password instead (POST /v3/users/{user_id}/password).
 */

const ALL_SCOPES = ['system', 'domain', 'project'] as const;

const ADMIN = rbac.ADMIN;
const SYSTEM_READER = rbac.SYSTEM_READER;

const GET_USER =
  `(${ADMIN}) or (${SYSTEM_READER}) or ` +
  '(role:reader and token.domain.id:%(target.user.domain_id)s) or ' +
  'user_id:%(target.user.id)s';
const LIST_USERS = `(${ADMIN}) or (${SYSTEM_READER}) or (${rbac.DOMAIN_READER})`;
const MANAGE_USER =
  `(${ADMIN}) or ` + '(role:manager and token.domain.id:%(target.user.domain_id)s)';

const READ_GROUP =
  `(${ADMIN}) or (${SYSTEM_READER}) or ` + '(role:reader and domain_id:%(target.group.domain_id)s)';
const LIST_GROUPS_FOR_USER =
  `(${ADMIN}) or (${SYSTEM_READER}) or ` +
  '(role:reader and domain_id:%(target.user.domain_id)s) or user_id:%(user_id)s';
const CHECK_MEMBER =
  `(${ADMIN}) or (${SYSTEM_READER}) or ` +
  '(role:reader and domain_id:%(target.group.domain_id)s and ' +
  'domain_id:%(target.user.domain_id)s)';
const MANAGE_GROUP = `(${ADMIN}) or ` + '(role:manager and domain_id:%(target.group.domain_id)s)';
const MANAGE_MEMBERS =
  `(${ADMIN}) or ` +
  '(role:manager and domain_id:%(target.group.domain_id)s and ' +
  'domain_id:%(target.user.domain_id)s)';

export const userPolicies: readonly RuleDefault[] = [
  {
    name: 'identity:get_user',
    check_str: GET_USER,
    scope_types: ALL_SCOPES,
    description: 'Show user details.',
    operations: [
      { method: 'GET', path: '/v3/users/{user_id}' },
      { method: 'HEAD', path: '/v3/users/{user_id}' },
    ],
  },
  {
    name: 'identity:list_users',
    check_str: LIST_USERS,
    scope_types: ALL_SCOPES,
    description: 'List users.',
    operations: [
      { method: 'GET', path: '/v3/users' },
      { method: 'HEAD', path: '/v3/users' },
    ],
  },
  {
    name: 'identity:create_user',
    check_str: MANAGE_USER,
    scope_types: ALL_SCOPES,
    description: 'Create a user.',
    operations: [{ method: 'POST', path: '/v3/users' }],
  },
  {
    name: 'identity:update_user',
    check_str: MANAGE_USER,
    scope_types: ALL_SCOPES,
    description: 'Update a user, including administrative password resets.',
    operations: [{ method: 'PATCH', path: '/v3/users/{user_id}' }],
  },
  {
    name: 'identity:delete_user',
    check_str: MANAGE_USER,
    scope_types: ALL_SCOPES,
    description: 'Delete a user.',
    operations: [{ method: 'DELETE', path: '/v3/users/{user_id}' }],
  },
  {
    name: 'identity:get_group',
    check_str: READ_GROUP,
    scope_types: ALL_SCOPES,
    description: 'Show group details.',
    operations: [
      { method: 'GET', path: '/v3/groups/{group_id}' },
      { method: 'HEAD', path: '/v3/groups/{group_id}' },
    ],
  },
  {
    name: 'identity:list_groups',
    check_str: READ_GROUP,
    scope_types: ALL_SCOPES,
    description: 'List groups.',
    operations: [
      { method: 'GET', path: '/v3/groups' },
      { method: 'HEAD', path: '/v3/groups' },
    ],
  },
  {
    name: 'identity:list_groups_for_user',
    check_str: LIST_GROUPS_FOR_USER,
    scope_types: ALL_SCOPES,
    description: 'List groups to which a user belongs.',
    operations: [
      { method: 'GET', path: '/v3/users/{user_id}/groups' },
      { method: 'HEAD', path: '/v3/users/{user_id}/groups' },
    ],
  },
  {
    name: 'identity:create_group',
    check_str: MANAGE_GROUP,
    scope_types: ALL_SCOPES,
    description: 'Create group.',
    operations: [{ method: 'POST', path: '/v3/groups' }],
  },
  {
    name: 'identity:update_group',
    check_str: MANAGE_GROUP,
    scope_types: ALL_SCOPES,
    description: 'Update group.',
    operations: [{ method: 'PATCH', path: '/v3/groups/{group_id}' }],
  },
  {
    name: 'identity:delete_group',
    check_str: MANAGE_GROUP,
    scope_types: ALL_SCOPES,
    description: 'Delete group.',
    operations: [{ method: 'DELETE', path: '/v3/groups/{group_id}' }],
  },
  {
    name: 'identity:list_users_in_group',
    check_str: READ_GROUP,
    scope_types: ALL_SCOPES,
    description: 'List members of a specific group.',
    operations: [
      { method: 'GET', path: '/v3/groups/{group_id}/users' },
      { method: 'HEAD', path: '/v3/groups/{group_id}/users' },
    ],
  },
  {
    name: 'identity:remove_user_from_group',
    check_str: MANAGE_MEMBERS,
    scope_types: ALL_SCOPES,
    description: 'Remove user from group.',
    operations: [{ method: 'DELETE', path: '/v3/groups/{group_id}/users/{user_id}' }],
  },
  {
    name: 'identity:check_user_in_group',
    check_str: CHECK_MEMBER,
    scope_types: ALL_SCOPES,
    description: 'Check whether a user is a member of a group.',
    operations: [
      { method: 'HEAD', path: '/v3/groups/{group_id}/users/{user_id}' },
      { method: 'GET', path: '/v3/groups/{group_id}/users/{user_id}' },
    ],
  },
  {
    name: 'identity:add_user_to_group',
    check_str: MANAGE_MEMBERS,
    scope_types: ALL_SCOPES,
    description: 'Add user to group.',
    operations: [{ method: 'PUT', path: '/v3/groups/{group_id}/users/{user_id}' }],
  },
];
