import type { Operation, RuleDefault } from '@stratus/policy';

/**
 * Keystone's secure-RBAC defaults for roles, implied roles, grants and role assignments
 * (keystone/common/policies/role.py, implied_role.py, grant.py, role_assignment.py).
 * `rule:admin_required` is Keystone's `role:admin`: the bootstrap admin's project-scoped
 * token may do everything here, as upstream.
 */

const ADMIN_OR_SYSTEM_READER = 'rule:admin_required or (role:reader and system_scope:all)';

// Upstream writes `role:manager and not domain_id:None`: a manager on a domain-scoped
// token. Our credentials leave `domain_id` out (rather than None) on other tokens, which
// would make that check true for every manager, so the handler puts the caller's scoped
// domain into the target instead; it is absent unless the token is domain-scoped.
const ADMIN_OR_SYSTEM_READER_OR_DOMAIN_MANAGER = `(${ADMIN_OR_SYSTEM_READER}) or (role:manager and domain_id:%(target.scope_domain_id)s)`;
const ADMIN_OR_SYSTEM_READER_OR_DOMAIN_MANAGER_ROLE = `(${ADMIN_OR_SYSTEM_READER}) or (role:manager and rule:domain_managed_target_role)`;

const USER_DOMAIN = 'domain_id:%(target.user.domain_id)s';
const GROUP_DOMAIN = 'domain_id:%(target.group.domain_id)s';
const PROJECT_DOMAIN = 'domain_id:%(target.project.domain_id)s';
const TARGET_DOMAIN = 'domain_id:%(target.domain.id)s';
const ROLE_DOMAIN = 'domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s';

const grantsDomain = (role: string): string =>
  [
    [USER_DOMAIN, PROJECT_DOMAIN],
    [USER_DOMAIN, TARGET_DOMAIN],
    [GROUP_DOMAIN, PROJECT_DOMAIN],
    [GROUP_DOMAIN, TARGET_DOMAIN],
  ]
    .map(([actor, target]) => `(role:${role} and ${actor} and ${target})`)
    .join(' or ');

const GRANTS_DOMAIN_READER = grantsDomain('reader');
const GRANTS_DOMAIN_ADMIN = grantsDomain('admin');
const GRANTS_DOMAIN_MANAGER = grantsDomain('manager');

const SYSTEM_READER = 'role:reader and system_scope:all';
const CHECK_GRANT = `(rule:admin_required) or ((${SYSTEM_READER}) or (${GRANTS_DOMAIN_READER}) and (${ROLE_DOMAIN}))`;
const LIST_GRANTS = `(rule:admin_required) or ((${SYSTEM_READER}) or ${GRANTS_DOMAIN_READER})`;
const MANAGE_GRANT = `(rule:admin_required) or (${GRANTS_DOMAIN_ADMIN}) and (${ROLE_DOMAIN}) or (${GRANTS_DOMAIN_MANAGER}) and rule:domain_managed_target_role`;

// A user may always list their own assignments (`?user.id=<self>`).
const LIST_ASSIGNMENTS = `(rule:admin_required) or (${SYSTEM_READER}) or (role:reader and domain_id:%(target.domain_id)s) or user_id:%(user.id)s`;
const LIST_ASSIGNMENTS_TREE = `(rule:admin_required) or (${SYSTEM_READER}) or (role:reader and domain_id:%(target.domain_id)s)`;

const grantPaths = [
  '/v3/projects/{project_id}/users/{user_id}/roles/{role_id}',
  '/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}',
  '/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}',
  '/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}',
];
const resourcePaths = [
  ...grantPaths,
  ...grantPaths.map((p) => `/v3/OS-INHERIT${p.slice(3)}/inherited_to_projects`),
];
const collectionPaths = [
  '/v3/projects/{project_id}/users/{user_id}/roles',
  '/v3/projects/{project_id}/groups/{group_id}/roles',
  '/v3/domains/{domain_id}/users/{user_id}/roles',
  '/v3/domains/{domain_id}/groups/{group_id}/roles',
  '/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/inherited_to_projects',
  '/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/inherited_to_projects',
  '/v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/inherited_to_projects',
  '/v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/inherited_to_projects',
];
const ops = (paths: readonly string[], methods: readonly string[]): Operation[] =>
  paths.flatMap((path) => methods.map((method) => ({ method, path })));

const IMPLIES = '/v3/roles/{prior_role_id}/implies/{implied_role_id}';

export const rolePolicies: readonly RuleDefault[] = [
  {
    name: 'domain_managed_target_role',
    check_str:
      "'manager':%(target.role.name)s or 'member':%(target.role.name)s or 'reader':%(target.role.name)s",
    description: 'The roles a domain manager may see and assign.',
  },
  // Roles.
  {
    name: 'identity:get_role',
    check_str: ADMIN_OR_SYSTEM_READER_OR_DOMAIN_MANAGER_ROLE,
    scope_types: ['system', 'domain', 'project'],
    description: 'Show role details.',
    operations: ops(['/v3/roles/{role_id}'], ['GET', 'HEAD']),
  },
  {
    name: 'identity:list_roles',
    check_str: ADMIN_OR_SYSTEM_READER_OR_DOMAIN_MANAGER,
    scope_types: ['system', 'domain', 'project'],
    description: 'List roles.',
    operations: ops(['/v3/roles'], ['GET', 'HEAD']),
  },
  {
    name: 'identity:create_role',
    check_str: 'rule:admin_required',
    scope_types: ['system', 'project'],
    description: 'Create role.',
    operations: [{ method: 'POST', path: '/v3/roles' }],
  },
  {
    name: 'identity:update_role',
    check_str: 'rule:admin_required',
    scope_types: ['system', 'project'],
    description: 'Update role.',
    operations: [{ method: 'PATCH', path: '/v3/roles/{role_id}' }],
  },
  {
    name: 'identity:delete_role',
    check_str: 'rule:admin_required',
    scope_types: ['system', 'project'],
    description: 'Delete role.',
    operations: [{ method: 'DELETE', path: '/v3/roles/{role_id}' }],
  },
  {
    name: 'identity:get_domain_role',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'Show domain role.',
    operations: ops(['/v3/roles/{role_id}'], ['GET', 'HEAD']),
  },
  {
    name: 'identity:list_domain_roles',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'List domain roles.',
    operations: ops(['/v3/roles?domain_id={domain_id}'], ['GET', 'HEAD']),
  },
  {
    name: 'identity:create_domain_role',
    check_str: 'rule:admin_required',
    scope_types: ['system', 'project'],
    description: 'Create domain role.',
    operations: [{ method: 'POST', path: '/v3/roles' }],
  },
  {
    name: 'identity:update_domain_role',
    check_str: 'rule:admin_required',
    scope_types: ['system', 'project'],
    description: 'Update domain role.',
    operations: [{ method: 'PATCH', path: '/v3/roles/{role_id}' }],
  },
  {
    name: 'identity:delete_domain_role',
    check_str: 'rule:admin_required',
    scope_types: ['system', 'project'],
    description: 'Delete domain role.',
    operations: [{ method: 'DELETE', path: '/v3/roles/{role_id}' }],
  },
  // Implied roles.
  {
    name: 'identity:get_implied_role',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'Get information about an association between two roles.',
    operations: [{ method: 'GET', path: IMPLIES }],
  },
  {
    name: 'identity:list_implied_roles',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'List the roles a prior role implies.',
    operations: ops(['/v3/roles/{prior_role_id}/implies'], ['GET', 'HEAD']),
  },
  {
    name: 'identity:create_implied_role',
    check_str: 'rule:admin_required',
    scope_types: ['system', 'project'],
    description: 'Create an association between two roles.',
    operations: [{ method: 'PUT', path: IMPLIES }],
  },
  {
    name: 'identity:delete_implied_role',
    check_str: 'rule:admin_required',
    scope_types: ['system', 'project'],
    description: 'Delete the association between two roles.',
    operations: [{ method: 'DELETE', path: IMPLIES }],
  },
  {
    name: 'identity:list_role_inference_rules',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'List all associations between two roles in the system.',
    operations: ops(['/v3/role_inferences'], ['GET', 'HEAD']),
  },
  {
    name: 'identity:check_implied_role',
    check_str: ADMIN_OR_SYSTEM_READER,
    scope_types: ['system', 'project'],
    description: 'Check an association between two roles.',
    operations: [{ method: 'HEAD', path: IMPLIES }],
  },
  // Grants on projects and domains (OS-INHERIT included).
  {
    name: 'identity:check_grant',
    check_str: CHECK_GRANT,
    scope_types: ['system', 'domain', 'project'],
    description: 'Check a role grant between a target and an actor.',
    operations: ops(resourcePaths, ['HEAD', 'GET']),
  },
  {
    name: 'identity:list_grants',
    check_str: LIST_GRANTS,
    scope_types: ['system', 'domain', 'project'],
    description: 'List roles granted to an actor on a target.',
    operations: ops(collectionPaths, ['GET', 'HEAD']),
  },
  {
    name: 'identity:create_grant',
    check_str: MANAGE_GRANT,
    scope_types: ['system', 'domain', 'project'],
    description: 'Create a role grant between a target and an actor.',
    operations: ops(resourcePaths, ['PUT']),
  },
  {
    name: 'identity:revoke_grant',
    check_str: MANAGE_GRANT,
    scope_types: ['system', 'domain', 'project'],
    description: 'Revoke a role grant between a target and an actor.',
    operations: ops(resourcePaths, ['DELETE']),
  },
  // System grants.
  ...(['user', 'group'] as const).flatMap((actor): RuleDefault[] => {
    const list = `/v3/system/${actor}s/{${actor}_id}/roles`;
    const one = `${list}/{role_id}`;
    return [
      {
        name: `identity:list_system_grants_for_${actor}`,
        check_str: ADMIN_OR_SYSTEM_READER,
        scope_types: ['system', 'project'],
        description: `List all grants a specific ${actor} has on the system.`,
        operations: ops([list], ['HEAD', 'GET']),
      },
      {
        name: `identity:check_system_grant_for_${actor}`,
        check_str: ADMIN_OR_SYSTEM_READER,
        scope_types: ['system', 'project'],
        description: `Check if a ${actor} has a role on the system.`,
        operations: ops([one], ['HEAD', 'GET']),
      },
      {
        name: `identity:create_system_grant_for_${actor}`,
        check_str: 'rule:admin_required',
        scope_types: ['system', 'project'],
        description: `Grant a ${actor} a role on the system.`,
        operations: ops([one], ['PUT']),
      },
      {
        name: `identity:revoke_system_grant_for_${actor}`,
        check_str: 'rule:admin_required',
        scope_types: ['system', 'project'],
        description: `Remove a role from a ${actor} on the system.`,
        operations: ops([one], ['DELETE']),
      },
    ];
  }),
  // Role assignments.
  {
    name: 'identity:list_role_assignments',
    check_str: LIST_ASSIGNMENTS,
    scope_types: ['system', 'domain', 'project'],
    description: 'List role assignments.',
    operations: ops(['/v3/role_assignments'], ['GET', 'HEAD']),
  },
  {
    name: 'identity:list_role_assignments_for_tree',
    check_str: LIST_ASSIGNMENTS_TREE,
    scope_types: ['system', 'domain', 'project'],
    description: 'List all role assignments for a given tree of hierarchical projects.',
    operations: ops(['/v3/role_assignments?include_subtree'], ['GET', 'HEAD']),
  },
];
