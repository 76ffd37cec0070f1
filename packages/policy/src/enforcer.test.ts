import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Forbidden, PolicyNotAuthorized } from '@stratus/common';
import type { Logger } from '@stratus/common';
import { Enforcer } from './enforcer.js';
import type { RuleDefault } from './enforcer.js';
import {
  InvalidScope,
  PolicyDefinitionError,
  PolicyNotRegistered,
  PolicyParseError,
} from './errors.js';
import { parsePolicyFile, readPolicyFile } from './policy-file.js';

/**
 * api-kit's RequestContext, field for field. It is declared as an interface, as there,
 * because an interface (unlike a type literal) is not assignable to an index signature.
 */
interface RequestContext {
  request_id: string;
  global_request_id?: string;
  user_id?: string;
  user_name?: string;
  user_domain_id?: string;
  project_id?: string;
  project_name?: string;
  project_domain_id?: string;
  domain_id?: string;
  system_scope?: string;
  roles: string[];
  is_admin: boolean;
  auth_token?: string;
}

function context(fields: Partial<RequestContext> & { roles: string[] }): RequestContext {
  return { request_id: 'req-1', is_admin: false, ...fields };
}

const projectMember = context({ user_id: 'u1', project_id: 'p1', roles: ['member', 'reader'] });
const projectAdmin = context({
  user_id: 'u9',
  project_id: 'p9',
  roles: ['admin', 'member', 'reader'],
});
const systemReader = context({ user_id: 'u2', system_scope: 'all', roles: ['reader'] });
const domainReader = context({ user_id: 'u3', domain_id: 'd1', roles: ['reader'] });

const defaults: RuleDefault[] = [
  { name: 'admin_required', check_str: 'role:admin' },
  { name: 'project_member', check_str: 'role:member and project_id:%(project_id)s' },
  {
    name: 'compute:servers:create',
    check_str: 'rule:project_member or rule:admin_required',
    scope_types: ['project'],
  },
  {
    name: 'compute:hypervisors:list',
    check_str: 'role:reader and system_scope:all',
    scope_types: ['system'],
  },
  {
    name: 'identity:list_users',
    check_str:
      '(role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)',
    scope_types: ['system', 'domain'],
  },
  { name: 'unscoped:thing', check_str: 'role:reader' },
];

/** Keeps the message of every warning. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const ignore = (): void => undefined;
  const logger: Logger & { warnings: string[] } = {
    warnings,
    trace: ignore,
    debug: ignore,
    info: ignore,
    warn: (a: unknown, b?: string) => void warnings.push(typeof a === 'string' ? a : (b ?? '')),
    error: ignore,
    fatal: ignore,
    child: () => logger,
  };
  return logger;
}

describe('Enforcer.enforce', () => {
  const enforcer = new Enforcer(defaults);

  it('follows rule: references to the named rules', () => {
    assert.equal(
      enforcer.enforce('compute:servers:create', { project_id: 'p1' }, projectMember),
      true,
    );
    assert.equal(
      enforcer.enforce('compute:servers:create', { project_id: 'p2' }, projectMember),
      false,
    );
    assert.equal(
      enforcer.enforce('compute:servers:create', { project_id: 'p2' }, projectAdmin),
      true,
    );
  });

  it('accepts plain objects with extra credential fields', () => {
    const creds = { roles: ['reader'], project_id: 'p1', anything: { else: 1 } };
    assert.equal(enforcer.enforce('unscoped:thing', {}, creds), true);
  });

  it("throws PolicyNotAuthorized with oslo's message when asked to raise", () => {
    assert.throws(
      () =>
        enforcer.enforce('compute:servers:create', { project_id: 'p2' }, projectMember, {
          doRaise: true,
        }),
      (err: unknown) => {
        assert.ok(err instanceof PolicyNotAuthorized);
        assert.ok(err instanceof Forbidden);
        assert.equal(err.status, 403);
        assert.equal(err.message, "Policy doesn't allow compute:servers:create to be performed.");
        assert.deepEqual(err.details, { action: 'compute:servers:create' });
        return true;
      },
    );
    assert.equal(
      enforcer.enforce('compute:servers:create', { project_id: 'p1' }, projectMember, {
        doRaise: true,
      }),
      true,
    );
  });

  it('refuses an action that has no registered default', () => {
    assert.throws(
      () => enforcer.enforce('compute:servers:nope', {}, projectAdmin),
      (err: unknown) =>
        err instanceof PolicyNotRegistered &&
        err.message === 'Policy compute:servers:nope has not been registered' &&
        err.status === 500,
    );
    // A rule that only a policy file defines is not an action.
    assert.throws(
      () => new Enforcer([], { overrides: { extra: '@' } }).enforce('extra', {}, projectAdmin),
      PolicyNotRegistered,
    );
  });
});

describe('scope types', () => {
  const enforcer = new Enforcer(defaults);

  it('refuse a project token on a system-only rule, however many roles it has', () => {
    const projectTokenWithAdminRole = context({ project_id: 'p1', roles: ['admin', 'reader'] });
    assert.equal(
      enforcer.enforce('compute:hypervisors:list', {}, projectTokenWithAdminRole),
      false,
    );
    assert.throws(
      () => enforcer.enforce('compute:hypervisors:list', {}, projectAdmin, { doRaise: true }),
      (err: unknown) => {
        assert.ok(err instanceof InvalidScope);
        assert.ok(err instanceof PolicyNotAuthorized);
        assert.equal(err.status, 403);
        assert.equal(err.message, "Policy doesn't allow compute:hypervisors:list to be performed.");
        assert.deepEqual(err.details?.['scope_types'], ['system']);
        assert.equal(err.details?.['token_scope'], 'project');
        return true;
      },
    );
    assert.equal(enforcer.enforce('compute:hypervisors:list', {}, systemReader), true);
  });

  it('refuse a system token on a project-only rule', () => {
    const systemAdmin = context({ system_scope: 'all', roles: ['admin'] });
    assert.equal(
      enforcer.enforce('compute:servers:create', { project_id: 'p1' }, systemAdmin),
      false,
    );
    assert.throws(
      () => enforcer.enforce('compute:servers:create', {}, systemAdmin, { doRaise: true }),
      InvalidScope,
    );
  });

  it('tell a domain token from a project token by its scope fields', () => {
    assert.equal(
      enforcer.enforce('identity:list_users', { target: { domain_id: 'd1' } }, domainReader),
      true,
    );
    assert.equal(
      enforcer.enforce('identity:list_users', { target: { domain_id: 'd2' } }, domainReader),
      false,
    );
    assert.equal(enforcer.enforce('identity:list_users', {}, systemReader), true);
    assert.throws(
      () =>
        enforcer.enforce(
          'identity:list_users',
          { target: { domain_id: 'd1' } },
          context({ project_id: 'p1', domain_id: 'd1', roles: ['reader'] }),
          {
            doRaise: true,
          },
        ),
      (err: unknown) => err instanceof InvalidScope && err.details?.['token_scope'] === 'project',
    );
    assert.throws(
      () => enforcer.enforce('compute:servers:create', {}, domainReader, { doRaise: true }),
      (err: unknown) => err instanceof InvalidScope && err.details?.['token_scope'] === 'domain',
    );
  });

  it('leave rules without scope types to their check string', () => {
    assert.equal(enforcer.enforce('unscoped:thing', {}, systemReader), true);
    assert.equal(enforcer.enforce('unscoped:thing', {}, domainReader), true);
    assert.equal(enforcer.enforce('unscoped:thing', {}, projectMember), true);
  });

  it('let old rules test `system:all`, which oslo copies from system_scope', () => {
    const enforcer2 = new Enforcer([{ name: 'old', check_str: 'system:all' }]);
    assert.equal(enforcer2.enforce('old', {}, systemReader), true);
    assert.equal(enforcer2.enforce('old', {}, projectMember), false);
  });
});

describe('operator overrides', () => {
  const overrides = parsePolicyFile(`
# Members may not create servers in this cloud; only project managers.
"compute:servers:create": "role:manager and project_id:%(project_id)s"
# Redefining a rule that others refer to changes all of them.
admin_required: role:cloud-admin
# An extra rule, only for rule: references.
"is_auditor": "role:auditor"
"unscoped:thing": "rule:is_auditor"
`);

  it('win over defaults, and may define extra rules', () => {
    const enforcer = new Enforcer(defaults, { overrides });
    const manager = context({ project_id: 'p1', roles: ['manager'] });
    assert.equal(
      enforcer.enforce('compute:servers:create', { project_id: 'p1' }, projectMember),
      false,
    );
    assert.equal(enforcer.enforce('compute:servers:create', { project_id: 'p1' }, manager), true);
    assert.equal(enforcer.enforce('unscoped:thing', {}, context({ roles: ['auditor'] })), true);
    assert.equal(enforcer.enforce('unscoped:thing', {}, projectMember), false);
    assert.equal(enforcer.effectiveRule('admin_required'), 'role:cloud-admin');
    assert.equal(
      enforcer.effectiveRule('project_member'),
      '(role:member and project_id:%(project_id)s)',
    );
  });

  it('keep the default scope types, which a policy file cannot change', () => {
    const enforcer = new Enforcer(defaults, { overrides: { 'compute:hypervisors:list': '@' } });
    assert.equal(enforcer.enforce('compute:hypervisors:list', {}, projectMember), false);
    assert.equal(enforcer.enforce('compute:hypervisors:list', {}, systemReader), true);
  });

  it('can be replaced at run time, and a bad replacement leaves the old rules working', () => {
    const enforcer = new Enforcer(defaults);
    enforcer.setOverrides({ 'unscoped:thing': '!' });
    assert.equal(enforcer.enforce('unscoped:thing', {}, projectMember), false);
    assert.throws(() => enforcer.setOverrides({ 'unscoped:thing': 'role:a or' }), PolicyParseError);
    assert.throws(() => enforcer.setOverrides({ a: 'rule:b', b: 'rule:a' }), PolicyDefinitionError);
    assert.equal(enforcer.enforce('unscoped:thing', {}, projectMember), false);
    enforcer.setOverrides({});
    assert.equal(enforcer.enforce('unscoped:thing', {}, projectMember), true);
  });

  it("report parse errors with the overridden rule's name", () => {
    assert.throws(
      () =>
        new Enforcer(defaults, { overrides: { 'compute:servers:create': 'role:a and (role:b' } }),
      (err: unknown) =>
        err instanceof PolicyParseError &&
        err.message.startsWith('Cannot parse policy rule "compute:servers:create" at position 11:'),
    );
  });

  it('load from YAML or JSON files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-policy-'));
    try {
      writeFileSync(join(dir, 'policy.yaml'), '"unscoped:thing": "!"\n');
      writeFileSync(join(dir, 'policy.json'), '{"unscoped:thing": "role:x", "admin_required": ""}');
      assert.deepEqual(readPolicyFile(join(dir, 'policy.yaml')), { 'unscoped:thing': '!' });
      assert.deepEqual(readPolicyFile(join(dir, 'policy.json')), {
        'unscoped:thing': 'role:x',
        admin_required: '',
      });
      assert.deepEqual(readPolicyFile(join(dir, 'missing.yaml'), { optional: true }), {});
      assert.throws(() => readPolicyFile(join(dir, 'missing.yaml')), /ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuse files that are not a mapping of names to check strings', () => {
    assert.deepEqual(parsePolicyFile('# only comments\n'), {});
    assert.throws(() => parsePolicyFile('- role:admin\n', 'p.yaml'), /p.yaml must be a mapping/);
    assert.throws(
      () => parsePolicyFile('a: [["role:admin"]]\n'),
      /rule "a" must be a check string/,
    );
    assert.throws(
      () => parsePolicyFile('a: "x\n'),
      (err: unknown) => err instanceof PolicyDefinitionError,
    );
    assert.throws(() => parsePolicyFile('a: "@"\na: "!"\n'), /not valid YAML/);
  });

  it('keep a rule named __proto__ an ordinary rule', () => {
    const parsed = parsePolicyFile('__proto__: "@"\n');
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
    assert.deepEqual(Object.keys(parsed), ['__proto__']);
  });
});

describe('rule definitions', () => {
  it('detect cycles of rule: references at load time, naming the cycle', () => {
    assert.throws(
      () =>
        new Enforcer([
          { name: 'a', check_str: 'role:x or rule:b' },
          { name: 'b', check_str: 'not rule:c' },
          { name: 'c', check_str: '(role:y and rule:a)' },
        ]),
      (err: unknown) =>
        err instanceof PolicyDefinitionError &&
        err.message === 'Policy rules refer to each other in a cycle: a -> b -> c -> a',
    );
    assert.throws(() => new Enforcer([{ name: 'self', check_str: 'rule:self' }]), /self -> self/);
    // A cycle made by an override is caught too.
    assert.throws(
      () =>
        new Enforcer(defaults, { overrides: { admin_required: 'rule:compute:servers:create' } }),
      /admin_required -> compute:servers:create -> admin_required/,
    );
  });

  it('allows shared references that are not cycles', () => {
    const enforcer = new Enforcer([
      { name: 'base', check_str: 'role:r' },
      { name: 'left', check_str: 'rule:base' },
      { name: 'both', check_str: 'rule:left and rule:base or rule:left' },
    ]);
    assert.equal(enforcer.enforce('both', {}, context({ roles: ['r'] })), true);
  });

  it('warn about references to undefined rules, which are then false', () => {
    const logger = recordingLogger();
    const enforcer = new Enforcer([{ name: 'a', check_str: 'rule:missing or role:x' }], { logger });
    assert.deepEqual(logger.warnings, ['Policies reference a rule that is not defined']);
    assert.equal(enforcer.enforce('a', {}, context({ roles: ['y'] })), false);
    assert.equal(enforcer.enforce('a', {}, context({ roles: ['x'] })), true);
  });

  it('refuse two defaults with the same name, and bad default check strings', () => {
    assert.throws(
      () =>
        new Enforcer([
          { name: 'a', check_str: '@' },
          { name: 'a', check_str: '!' },
        ]),
      /Policy a is already registered/,
    );
    assert.throws(
      () => new Enforcer([{ name: 'b', check_str: 'role:x and' }]),
      /Cannot parse policy rule "b" at position 10/,
    );
  });
});

describe('deprecated rules', () => {
  const renamed: RuleDefault = {
    name: 'identity:get_user',
    check_str: 'role:reader and system_scope:all',
    deprecated_rule: {
      name: 'identity:show_user',
      check_str: 'rule:admin_required',
      deprecated_reason: 'Scope-aware default.',
      deprecated_since: 'Stein',
    },
  };
  const rules = [{ name: 'admin_required', check_str: 'role:admin' }, renamed];
  const admin = context({ project_id: 'p1', roles: ['admin'] });

  it('enforce only the new default unless told otherwise', () => {
    assert.equal(new Enforcer(rules).enforce('identity:get_user', {}, admin), false);
    const lenient = new Enforcer(rules, { enforceNewDefaults: false });
    assert.equal(lenient.enforce('identity:get_user', {}, admin), true);
    assert.equal(lenient.enforce('identity:get_user', {}, systemReader), true);
  });

  it("carry an operator's override of the old name over to the new name", () => {
    const logger = recordingLogger();
    const enforcer = new Enforcer(rules, {
      overrides: { 'identity:show_user': 'role:auditor' },
      logger,
    });
    assert.equal(enforcer.effectiveRule('identity:get_user'), 'role:auditor');
    assert.match(logger.warnings.join('\n'), /renamed to "identity:get_user"/);
    // An alias to the new name, or the old default itself, changes nothing.
    for (const value of ['rule:identity:get_user', 'rule:admin_required']) {
      const plain = new Enforcer(rules, { overrides: { 'identity:show_user': value } });
      assert.equal(plain.effectiveRule('identity:get_user'), '(role:reader and system_scope:all)');
    }
    // An override of the new name wins over the old one.
    const both = new Enforcer(rules, {
      overrides: { 'identity:show_user': 'role:auditor', 'identity:get_user': 'role:boss' },
    });
    assert.equal(both.effectiveRule('identity:get_user'), 'role:boss');
  });
});
