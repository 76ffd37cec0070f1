import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseRules } from './base-rules.js';
import { Enforcer } from './enforcer.js';
import type { RuleDefault } from './enforcer.js';
import { parsePolicyFile } from './policy-file.js';
import { renderPolicySample } from './sample.js';

const documented: RuleDefault = {
  name: 'identity:get_user',
  check_str: '(role:reader and system_scope:all) or user_id:%(target.user.id)s',
  description:
    'Show details of a user. Readers of the whole system may see any user, and every user ' +
    'may see themselves.\n\nFor example:\n\n    openstack user show alice\n',
  scope_types: ['system', 'domain', 'project'],
  operations: [
    { method: 'GET', path: '/v3/users/{user_id}' },
    { method: 'HEAD', path: '/v3/users/{user_id}' },
  ],
  deprecated_rule: {
    name: 'identity:show_user',
    check_str: 'rule:admin_required',
    deprecated_reason: 'The user API is now aware of system scope and default roles.',
    deprecated_since: 'Stein',
  },
};

const removed: RuleDefault = {
  name: 'compute:os-agents',
  check_str: 'rule:admin_required',
  deprecated_for_removal: true,
  deprecated_reason: 'Agents are gone.',
  deprecated_since: '24.0.0',
};

const quoted: RuleDefault = {
  name: 'identity:assign_role',
  check_str: '"member":%(target.role.name)s or \'reader\':%(target.role.name)s',
};

const all = [...baseRules, documented, removed, quoted];

/** What an operator does to the sample: uncomment every rule line. */
function uncomment(sample: string): string {
  return sample.replace(/^#(?=")/gm, '');
}

describe('renderPolicySample', () => {
  it('documents a rule as oslopolicy-sample-generator does, with the rule commented out', () => {
    assert.equal(
      renderPolicySample([documented]),
      [
        '# Show details of a user. Readers of the whole system may see any',
        '# user, and every user may see themselves.',
        '#',
        '# For example:',
        '#',
        '#     openstack user show alice',
        '# GET  /v3/users/{user_id}',
        '# HEAD  /v3/users/{user_id}',
        '# Intended scope(s): system, domain, project',
        '#"identity:get_user": "(role:reader and system_scope:all) or user_id:%(target.user.id)s"',
        '',
        '# DEPRECATED',
        '# "identity:show_user": "rule:admin_required" has been deprecated',
        '# since Stein in favor of "identity:get_user": "(role:reader and',
        '# system_scope:all) or user_id:%(target.user.id)s".',
        '# The user API is now aware of system scope and default roles.',
        '# WARNING: "identity:show_user" is now called "identity:get_user".',
        '# A policy file that overrides the old name should move the override',
        '# to the new name, or keep the old name as an alias of the new one:',
        '# "identity:show_user": "rule:identity:get_user"',
        '',
        '',
      ].join('\n'),
    );
  });

  it('marks rules deprecated for removal', () => {
    assert.equal(
      renderPolicySample([removed]),
      [
        '# DEPRECATED',
        '# "compute:os-agents" has been deprecated since 24.0.0.',
        '# Agents are gone.',
        '#"compute:os-agents": "rule:admin_required"',
        '',
        '',
      ].join('\n'),
    );
  });

  it('lists every rule, and as shipped overrides nothing', () => {
    const sample = renderPolicySample(all);
    for (const rule of all)
      assert.ok(sample.includes(`#${JSON.stringify(rule.name)}: `), rule.name);
    assert.deepEqual(parsePolicyFile(sample), {});
  });

  it('reloads, uncommented, as overrides equal to the defaults', () => {
    const expected = Object.fromEntries(all.map((rule) => [rule.name, rule.check_str]));
    const overrides = parsePolicyFile(uncomment(renderPolicySample(all)));
    assert.deepEqual(overrides, expected);
    assert.deepEqual(parsePolicyFile(renderPolicySample(all, { commented: false })), expected);

    const plain = new Enforcer(all);
    const overridden = new Enforcer(all, { overrides });
    for (const rule of all) {
      assert.equal(overridden.effectiveRule(rule.name), plain.effectiveRule(rule.name), rule.name);
    }
    const target = { target: { user: { id: 'u1' }, role: { name: 'member' } } };
    const creds = { user_id: 'u1', project_id: 'p1', roles: ['member'] };
    for (const action of ['identity:get_user', 'identity:assign_role', 'compute:os-agents']) {
      assert.equal(overridden.enforce(action, target, creds), plain.enforce(action, target, creds));
    }
    assert.equal(overridden.enforce('identity:assign_role', target, creds), true);
  });
});
