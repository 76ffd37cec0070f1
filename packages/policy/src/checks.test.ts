import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate, pythonStr } from './checks.js';
import type { Attributes } from './checks.js';
import { parseRule } from './parser.js';
import type { Check } from './parser.js';

const noRules = (): Check | undefined => undefined;

function allows(checkStr: string, target: Attributes, creds: Attributes): boolean {
  return evaluate(parseRule(checkStr, 'test'), target, creds, noRules);
}

const projectMember = {
  user_id: 'u1',
  project_id: 'p1',
  roles: ['member', 'reader'],
  is_admin: false,
};

describe('role checks', () => {
  it('match a role the credentials hold, ignoring case as oslo does', () => {
    assert.equal(allows('role:member', {}, projectMember), true);
    assert.equal(allows('role:MEMBER', {}, projectMember), true);
    assert.equal(allows('role:Member', {}, { roles: ['mEmBeR'] }), true);
    assert.equal(allows('role:admin', {}, projectMember), false);
  });

  it('fail without roles, and take the role name from the target when asked', () => {
    assert.equal(allows('role:member', {}, { user_id: 'u1' }), false);
    assert.equal(allows('role:%(role)s', { role: 'Reader' }, projectMember), true);
    assert.equal(allows('role:%(role)s', {}, projectMember), false);
  });

  it('are the only case-insensitive comparison: the kind and generic values are exact', () => {
    assert.equal(allows('ROLE:member', {}, projectMember), false);
    assert.equal(allows('project_id:P1', {}, projectMember), false);
  });
});

describe('generic checks', () => {
  it('compare a credential with a target value', () => {
    assert.equal(allows('project_id:%(project_id)s', { project_id: 'p1' }, projectMember), true);
    assert.equal(allows('project_id:%(project_id)s', { project_id: 'p2' }, projectMember), false);
  });

  it('read dotted target paths from nested objects or from flat dotted keys', () => {
    const nested = { target: { project: { domain_id: 'd1' } } };
    const flat = { 'target.project.domain_id': 'd1' };
    const creds = { domain_id: 'd1', roles: [] };
    assert.equal(allows('domain_id:%(target.project.domain_id)s', nested, creds), true);
    assert.equal(allows('domain_id:%(target.project.domain_id)s', flat, creds), true);
    assert.equal(
      allows('user_id:%(target.user.id)s', { target: { user: { id: 'u1' } } }, projectMember),
      true,
    );
  });

  it('fail, without throwing, when a key is missing on either side', () => {
    assert.equal(allows('project_id:%(project_id)s', {}, projectMember), false);
    assert.equal(
      allows('user_id:%(target.user.id)s', { target: { user: 'u1' } }, projectMember),
      false,
    );
    assert.equal(allows('domain_id:%(domain_id)s', { domain_id: 'd1' }, projectMember), false);
    assert.equal(allows('token.user.id:u1', {}, { token: 'opaque' }), false);
    // A missing key is false, so its negation is true, exactly as in oslo.
    assert.equal(allows('not project_id:%(project_id)s', {}, projectMember), true);
  });

  it('never reach into prototypes', () => {
    // Object.prototype's own prototype is null, which would print as None.
    assert.equal(allows('__proto__.__proto__:None', {}, {}), false);
    assert.equal(allows('None:%(__proto__.__proto__)s', {}, {}), false);
    assert.equal(allows('constructor.name:Object', {}, {}), false);
  });

  it('compare literals on the right with Python str() of the credential', () => {
    assert.equal(allows('system_scope:all', {}, { system_scope: 'all' }), true);
    assert.equal(allows('is_admin_project:True', {}, { is_admin_project: true }), true);
    assert.equal(allows('is_admin_project:True', {}, { is_admin_project: false }), false);
    assert.equal(allows('is_admin:1', {}, { is_admin: true }), false);
    assert.equal(allows('quota:10', {}, { quota: 10 }), true);
  });

  it('compare literals on the left with a target value', () => {
    const check = "'member':%(target.role.name)s";
    assert.equal(allows(check, { target: { role: { name: 'member' } } }, {}), true);
    assert.equal(allows(check, { target: { role: { name: 'admin' } } }, {}), false);
    assert.equal(allows('True:%(enabled)s', { enabled: true }, {}), true);
    assert.equal(allows('True:%(enabled)s', { enabled: false }, {}), false);
    // keystone's guard against projects without a domain: None matches a null.
    assert.equal(allows('not None:%(domain_id)s', { domain_id: null }, {}), false);
    assert.equal(allows('not None:%(domain_id)s', { domain_id: 'd1' }, {}), true);
  });

  it('keep the text around a substitution', () => {
    assert.equal(allows('name:vm-%(n)s', { n: 7 }, { name: 'vm-7' }), true);
  });

  it('match when any element of a list on the path matches', () => {
    const creds = {
      token: { roles: [{ name: 'reader' }, { name: 'member' }] },
      groups: ['g1', 'g2'],
    };
    assert.equal(allows('token.roles.name:member', {}, creds), true);
    assert.equal(allows('token.roles.name:admin', {}, creds), false);
    assert.equal(allows('groups:g2', {}, creds), true);
  });

  it('never match containers', () => {
    assert.equal(allows('token:%(t)s', { t: { a: 1 } }, { token: { a: 1 } }), false);
  });
});

describe('combinations', () => {
  it('evaluate and/or/not with oslo precedence', () => {
    const rule = 'role:admin or role:member and project_id:%(project_id)s and not role:banned';
    assert.equal(allows(rule, { project_id: 'p1' }, projectMember), true);
    assert.equal(allows(rule, { project_id: 'p2' }, projectMember), false);
    assert.equal(allows(rule, { project_id: 'p2' }, { roles: ['admin', 'banned'] }), true);
    assert.equal(
      allows(rule, { project_id: 'p1' }, { ...projectMember, roles: ['member', 'banned'] }),
      false,
    );
  });

  it('treat an unknown rule reference as false', () => {
    assert.equal(allows('rule:nope', {}, projectMember), false);
    assert.equal(allows('not rule:nope', {}, projectMember), true);
  });
});

describe('pythonStr', () => {
  it('prints scalars as Python does', () => {
    assert.equal(pythonStr(true), 'True');
    assert.equal(pythonStr(false), 'False');
    assert.equal(pythonStr(null), 'None');
    assert.equal(pythonStr(3), '3');
    assert.equal(pythonStr('x'), 'x');
    assert.equal(pythonStr(undefined), undefined);
    assert.equal(pythonStr(['x']), undefined);
  });
});
