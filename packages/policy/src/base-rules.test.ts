import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allOf, anyOf, baseRules, rbac } from './base-rules.js';
import { Enforcer } from './enforcer.js';
import type { RuleDefault } from './enforcer.js';

/** A small, realistic service policy composed from the shared personas. */
const exampleRules: RuleDefault[] = [
  {
    name: 'compute:servers:show',
    check_str: rbac.PROJECT_READER_OR_ADMIN,
    scope_types: ['project'],
    operations: [{ method: 'GET', path: '/servers/{server_id}' }],
  },
  {
    name: 'compute:servers:create',
    check_str: rbac.PROJECT_MEMBER_OR_ADMIN,
    scope_types: ['project'],
    operations: [{ method: 'POST', path: '/servers' }],
  },
  {
    name: 'compute:servers:lock:override',
    check_str: rbac.ADMIN,
    scope_types: ['project'],
  },
  {
    name: 'identity:get_user',
    check_str: anyOf(
      rbac.ADMIN,
      rbac.SYSTEM_READER,
      'role:reader and domain_id:%(target.user.domain_id)s',
      'user_id:%(target.user.id)s',
    ),
    scope_types: ['system', 'domain', 'project'],
  },
  {
    name: 'identity:list_projects',
    check_str: anyOf(rbac.ADMIN, rbac.SYSTEM_READER, rbac.DOMAIN_READER),
    scope_types: ['system', 'domain', 'project'],
  },
  {
    name: 'compute:os-services:update',
    check_str: rbac.SERVICE_OR_ADMIN,
    scope_types: ['project'],
  },
];

const rules = [...baseRules, ...exampleRules];

function context(fields: {
  user_id?: string;
  project_id?: string;
  domain_id?: string;
  system_scope?: string;
  roles: string[];
  is_admin?: boolean;
}) {
  return { request_id: 'req-1', is_admin: false, ...fields };
}

// keystone's implied roles: admin implies member implies reader.
const reader = context({ user_id: 'u-reader', project_id: 'p1', roles: ['reader'] });
const member = context({ user_id: 'u-member', project_id: 'p1', roles: ['member', 'reader'] });
const admin = context({
  user_id: 'u-admin',
  project_id: 'p0',
  roles: ['admin', 'member', 'reader'],
});
const systemReader = context({ user_id: 'u-sys', system_scope: 'all', roles: ['reader'] });
const domainReader = context({ user_id: 'u-dom', domain_id: 'd1', roles: ['reader'] });
const service = context({ user_id: 'nova', project_id: 'service', roles: ['service'] });

describe('base rules and personas', () => {
  const enforcer = new Enforcer(rules);
  const ownServer = { project_id: 'p1', user_id: 'u-member' };
  const otherServer = { project_id: 'p2', user_id: 'u-other' };

  it('let project readers read, members write, and admins do both anywhere', () => {
    assert.equal(enforcer.enforce('compute:servers:show', ownServer, reader), true);
    assert.equal(enforcer.enforce('compute:servers:create', ownServer, reader), false);
    assert.equal(enforcer.enforce('compute:servers:create', ownServer, member), true);
    assert.equal(enforcer.enforce('compute:servers:show', otherServer, member), false);
    assert.equal(enforcer.enforce('compute:servers:create', otherServer, admin), true);
    assert.equal(enforcer.enforce('compute:servers:lock:override', ownServer, member), false);
    assert.equal(enforcer.enforce('compute:servers:lock:override', ownServer, admin), true);
  });

  it('let elevated internal contexts through admin_required', () => {
    const internal = context({ project_id: 'p0', roles: [], is_admin: true });
    assert.equal(enforcer.enforce('compute:servers:lock:override', ownServer, internal), true);
  });

  it('let services and admins use service APIs', () => {
    assert.equal(enforcer.enforce('compute:os-services:update', {}, service), true);
    assert.equal(enforcer.enforce('compute:os-services:update', {}, admin), true);
    assert.equal(enforcer.enforce('compute:os-services:update', {}, member), false);
  });

  it('serve keystone-style rules across system, domain and project scope', () => {
    const user = { target: { user: { id: 'u-x', domain_id: 'd1' } } };
    assert.equal(enforcer.enforce('identity:get_user', user, systemReader), true);
    assert.equal(enforcer.enforce('identity:get_user', user, domainReader), true);
    assert.equal(
      enforcer.enforce(
        'identity:get_user',
        { target: { user: { id: 'u-x', domain_id: 'd2' } } },
        domainReader,
      ),
      false,
    );
    assert.equal(enforcer.enforce('identity:get_user', user, member), false);
    const self = { target: { user: { id: 'u-member', domain_id: 'd9' } } };
    assert.equal(enforcer.enforce('identity:get_user', self, member), true);
    assert.equal(
      enforcer.enforce('identity:list_projects', { target: { domain_id: 'd1' } }, domainReader),
      true,
    );
    assert.equal(
      enforcer.enforce('identity:list_projects', { target: { domain_id: 'd1' } }, member),
      false,
    );
  });

  it('let an operator redefine a persona once for every API that uses it', () => {
    const strict = new Enforcer(rules, {
      overrides: {
        project_member_api: 'role:member and project_id:%(project_id)s and not role:frozen',
      },
    });
    const frozen = { ...member, roles: ['member', 'reader', 'frozen'] };
    assert.equal(strict.enforce('compute:servers:create', ownServer, frozen), false);
    assert.equal(strict.enforce('compute:servers:create', ownServer, member), true);
  });
});

describe('anyOf / allOf', () => {
  it('parenthesise compound checks so composition keeps its meaning', () => {
    assert.equal(
      anyOf(rbac.ADMIN, rbac.SYSTEM_READER),
      'rule:admin_required or (role:reader and system_scope:all)',
    );
    assert.equal(allOf('role:a or role:b', 'role:c'), '(role:a or role:b) and role:c');
    const enforcer = new Enforcer([{ name: 'x', check_str: allOf('role:a or role:b', 'role:c') }]);
    assert.equal(enforcer.enforce('x', {}, context({ roles: ['a'] })), false);
    assert.equal(enforcer.enforce('x', {}, context({ roles: ['a', 'c'] })), true);
  });

  it('treat no alternatives as nobody and no conditions as everybody', () => {
    assert.equal(anyOf(), '!');
    assert.equal(allOf(), '@');
  });
});
