/**
 * The rules every service shares, after keystone's and nova's `policies/base.py`. The
 * personas are upstream's "secure RBAC" ones: admin, manager, member and reader roles,
 * on a project or the whole system. Persona checks that operators commonly retune are
 * named rules, so one line of policy.yaml changes what "project member" means for every
 * API of a service; the system- and domain-scoped ones are plain strings, as in keystone.
 */
import type { RuleDefault } from './enforcer.js';

export const rbac = {
  ALLOW_ALL: '@',
  DENY_ALL: '!',
  ADMIN: 'rule:admin_required',
  SERVICE: 'rule:service_role',
  SERVICE_OR_ADMIN: 'rule:service_or_admin',
  OWNER: 'rule:owner',
  ADMIN_OR_OWNER: 'rule:admin_or_owner',
  SYSTEM_ADMIN: 'role:admin and system_scope:all',
  SYSTEM_READER: 'role:reader and system_scope:all',
  DOMAIN_READER: 'role:reader and domain_id:%(target.domain_id)s',
  PROJECT_READER: 'rule:project_reader_api',
  PROJECT_MEMBER: 'rule:project_member_api',
  PROJECT_MANAGER: 'rule:project_manager_api',
  PROJECT_READER_OR_ADMIN: 'rule:project_reader_or_admin',
  PROJECT_MEMBER_OR_ADMIN: 'rule:project_member_or_admin',
  PROJECT_MANAGER_OR_ADMIN: 'rule:project_manager_or_admin',
} as const;

/** Register these with every service's own defaults: `[...baseRules, ...serviceRules]`. */
export const baseRules: readonly RuleDefault[] = [
  {
    name: 'context_is_admin',
    check_str: 'role:admin',
    description: 'Who is a cloud administrator.',
  },
  {
    // keystone writes `is_admin:1`, which never equals a boolean's str() ("True"); our
    // is_admin is a boolean, set for elevated internal contexts.
    name: 'admin_required',
    check_str: 'rule:context_is_admin or is_admin:True',
    description: 'An administrator, or an internal request running with admin rights.',
  },
  { name: 'service_role', check_str: 'role:service', description: 'Another service.' },
  {
    name: 'service_or_admin',
    check_str: 'rule:admin_required or rule:service_role',
    description: 'Another service or an administrator.',
  },
  {
    name: 'owner',
    check_str: 'user_id:%(user_id)s',
    description: 'The user the resource belongs to.',
  },
  {
    name: 'admin_or_owner',
    check_str: 'rule:admin_required or rule:owner',
    description: 'An administrator or the user the resource belongs to.',
  },
  {
    name: 'project_reader_api',
    check_str: 'role:reader and project_id:%(project_id)s',
    description: 'A reader of the project that owns the resource.',
  },
  {
    name: 'project_member_api',
    check_str: 'role:member and project_id:%(project_id)s',
    description: 'A member of the project that owns the resource.',
  },
  {
    name: 'project_manager_api',
    check_str: 'role:manager and project_id:%(project_id)s',
    description: 'A manager of the project that owns the resource.',
  },
  {
    name: 'project_reader_or_admin',
    check_str: 'rule:project_reader_api or rule:admin_required',
    description: 'A project reader or an administrator.',
  },
  {
    name: 'project_member_or_admin',
    check_str: 'rule:project_member_api or rule:admin_required',
    description: 'A project member or an administrator.',
  },
  {
    name: 'project_manager_or_admin',
    check_str: 'rule:project_manager_api or rule:admin_required',
    description: 'A project manager or an administrator.',
  },
];

/** `a or b`, each side parenthesised when it is compound, so composing cannot change precedence. */
export function anyOf(...checks: string[]): string {
  // No alternatives allow nobody; an empty string would mean "always".
  return checks.length === 0 ? '!' : checks.map(group).join(' or ');
}

/** `a and b`, each side parenthesised when it is compound. */
export function allOf(...checks: string[]): string {
  return checks.length === 0 ? '@' : checks.map(group).join(' and ');
}

function group(check: string): string {
  return /\s/.test(check.trim()) ? `(${check})` : check;
}
