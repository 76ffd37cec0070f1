import type { RuleDefault, ScopeType } from '@stratus/policy';

/*
 * Keystone's secure-RBAC defaults for domains, projects and project tags
 * (keystone/common/policies/domain.py and project.py). `rule:admin_required` is
 * `role:admin` whatever the scope, so the bootstrap admin's project-scoped token may do
 * everything, as in Keystone.
 */

const ADMIN = 'rule:admin_required';
const SYSTEM_READER = 'role:reader and system_scope:all';
const ALL_SCOPES: readonly ScopeType[] = ['system', 'domain', 'project'];

// domain.py
const ADMIN_OR_SYSTEM_USER_OR_DOMAIN_USER_OR_PROJECT_USER =
  `${ADMIN} or (${SYSTEM_READER}) or ` +
  'token.domain.id:%(target.domain.id)s or ' +
  'token.project.domain.id:%(target.domain.id)s';
const ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER_OF_DOMAIN =
  `${ADMIN} or (${SYSTEM_READER}) or ` + '(role:reader and domain_id:%(target.domain.id)s)';

// project.py
const ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER_OR_PROJECT_USER =
  `(${ADMIN}) or (${SYSTEM_READER}) or ` +
  '(role:reader and domain_id:%(target.project.domain_id)s and ' +
  'not None:%(target.project.domain_id)s) or ' +
  'project_id:%(target.project.id)s';
const ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER =
  `(${ADMIN}) or (${SYSTEM_READER}) or ` + '(role:reader and domain_id:%(target.domain_id)s)';
const ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER_OR_OWNER =
  `(${ADMIN}) or (${SYSTEM_READER}) or ` +
  '(role:reader and domain_id:%(target.user.domain_id)s) or ' +
  'user_id:%(target.user.id)s';
const ADMIN_OR_DOMAIN_MANAGER =
  `(${ADMIN}) or ` +
  '(role:manager and domain_id:%(target.project.domain_id)s and ' +
  'not None:%(target.project.domain_id)s)';

const domainPolicies: readonly RuleDefault[] = [
  {
    name: 'identity:get_domain',
    check_str: ADMIN_OR_SYSTEM_USER_OR_DOMAIN_USER_OR_PROJECT_USER,
    scope_types: ALL_SCOPES,
    description: 'Show domain details.',
    operations: [{ method: 'GET', path: '/v3/domains/{domain_id}' }],
  },
  {
    name: 'identity:list_domains',
    check_str: ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER_OF_DOMAIN,
    scope_types: ALL_SCOPES,
    description: 'List domains.',
    operations: [{ method: 'GET', path: '/v3/domains' }],
  },
  {
    name: 'identity:create_domain',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Create domain.',
    operations: [{ method: 'POST', path: '/v3/domains' }],
  },
  {
    name: 'identity:update_domain',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Update domain.',
    operations: [{ method: 'PATCH', path: '/v3/domains/{domain_id}' }],
  },
  {
    name: 'identity:delete_domain',
    check_str: ADMIN,
    scope_types: ['system', 'project'],
    description: 'Delete domain.',
    operations: [{ method: 'DELETE', path: '/v3/domains/{domain_id}' }],
  },
];

const projectRules: readonly RuleDefault[] = [
  {
    name: 'identity:get_project',
    check_str: ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER_OR_PROJECT_USER,
    scope_types: ALL_SCOPES,
    description: 'Show project details.',
    operations: [{ method: 'GET', path: '/v3/projects/{project_id}' }],
  },
  {
    name: 'identity:list_projects',
    check_str: ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER,
    scope_types: ALL_SCOPES,
    description: 'List projects.',
    operations: [{ method: 'GET', path: '/v3/projects' }],
  },
  {
    name: 'identity:list_user_projects',
    check_str: ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER_OR_OWNER,
    scope_types: ALL_SCOPES,
    description: 'List projects for user.',
    operations: [{ method: 'GET', path: '/v3/users/{user_id}/projects' }],
  },
  {
    name: 'identity:create_project',
    check_str: ADMIN_OR_DOMAIN_MANAGER,
    scope_types: ALL_SCOPES,
    description: 'Create project.',
    operations: [{ method: 'POST', path: '/v3/projects' }],
  },
  {
    name: 'identity:update_project',
    check_str: ADMIN_OR_DOMAIN_MANAGER,
    scope_types: ALL_SCOPES,
    description: 'Update project.',
    operations: [{ method: 'PATCH', path: '/v3/projects/{project_id}' }],
  },
  {
    name: 'identity:delete_project',
    check_str: ADMIN_OR_DOMAIN_MANAGER,
    scope_types: ALL_SCOPES,
    description: 'Delete project.',
    operations: [{ method: 'DELETE', path: '/v3/projects/{project_id}' }],
  },
  {
    name: 'identity:list_project_tags',
    check_str: ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER_OR_PROJECT_USER,
    scope_types: ALL_SCOPES,
    description: 'List tags for a project.',
    operations: [
      { method: 'GET', path: '/v3/projects/{project_id}/tags' },
      { method: 'HEAD', path: '/v3/projects/{project_id}/tags' },
    ],
  },
  {
    name: 'identity:get_project_tag',
    check_str: ADMIN_OR_SYSTEM_READER_OR_DOMAIN_READER_OR_PROJECT_USER,
    scope_types: ALL_SCOPES,
    description: 'Check if project contains a tag.',
    operations: [
      { method: 'GET', path: '/v3/projects/{project_id}/tags/{value}' },
      { method: 'HEAD', path: '/v3/projects/{project_id}/tags/{value}' },
    ],
  },
  {
    name: 'identity:update_project_tags',
    check_str: ADMIN_OR_DOMAIN_MANAGER,
    scope_types: ALL_SCOPES,
    description: 'Replace all tags on a project with the new set of tags.',
    operations: [{ method: 'PUT', path: '/v3/projects/{project_id}/tags' }],
  },
  {
    name: 'identity:create_project_tag',
    check_str: ADMIN_OR_DOMAIN_MANAGER,
    scope_types: ALL_SCOPES,
    description: 'Add a single tag to a project.',
    operations: [{ method: 'PUT', path: '/v3/projects/{project_id}/tags/{value}' }],
  },
  {
    name: 'identity:delete_project_tags',
    check_str: ADMIN_OR_DOMAIN_MANAGER,
    scope_types: ALL_SCOPES,
    description: 'Remove all tags from a project.',
    operations: [{ method: 'DELETE', path: '/v3/projects/{project_id}/tags' }],
  },
  {
    name: 'identity:delete_project_tag',
    check_str: ADMIN_OR_DOMAIN_MANAGER,
    scope_types: ALL_SCOPES,
    description: 'Delete a specified tag from project.',
    operations: [{ method: 'DELETE', path: '/v3/projects/{project_id}/tags/{value}' }],
  },
];

/** The rules of the domain and project APIs (base rules come from `identityPolicies`). */
export const projectPolicies: readonly RuleDefault[] = [...domainPolicies, ...projectRules];
