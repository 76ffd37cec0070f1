import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicyNotAuthorized } from '@stratus/common';
import { PolicyParseError } from './errors.js';
import { formatCheck, parseRule, ruleReferences } from './parser.js';

const canonical = (checkStr: string): string => formatCheck(parseRule(checkStr, 'test'));

function parseError(
  checkStr: string,
  ruleName = 'identity:get_user',
): InstanceType<typeof PolicyParseError> {
  try {
    parseRule(checkStr, ruleName);
  } catch (err) {
    assert.ok(err instanceof PolicyParseError, `expected a PolicyParseError, got ${String(err)}`);
    return err;
  }
  assert.fail(`"${checkStr}" parsed`);
}

describe('parseRule', () => {
  it('parses the special checks and the empty rule', () => {
    assert.deepEqual(parseRule('@'), { type: 'always' });
    assert.deepEqual(parseRule('!'), { type: 'never' });
    assert.deepEqual(parseRule(''), { type: 'always' });
  });

  it('gives "not" precedence over "and", and "and" over "or", as oslo does', () => {
    const cases: [string, string][] = [
      ['@ or ! or @', '(@ or ! or @)'],
      ['@ or ! and @', '(@ or (! and @))'],
      ['@ and ! or @', '((@ and !) or @)'],
      ['@ or ! and @ or !', '(@ or (! and @) or !)'],
      ['@ and ! or @ and !', '((@ and !) or (@ and !))'],
      ['@ or ! and @ and !', '(@ or (! and @ and !))'],
      ['not @ and ! or @', '((not @ and !) or @)'],
      ['@ and ! or not @', '((@ and !) or not @)'],
      ['role:a or not role:b and role:c', '(role:a or (not role:b and role:c))'],
      ['not not role:a', 'not not role:a'],
    ];
    for (const [input, expected] of cases) assert.equal(canonical(input), expected, input);
  });

  it('lets parentheses override precedence, at any depth', () => {
    assert.equal(canonical('not (@ and ! or @)'), 'not ((@ and !) or @)');
    assert.equal(canonical('@ and (! or @)'), '(@ and (! or @))');
    assert.equal(canonical('@ and not (! or @)'), '(@ and not (! or @))');
    assert.equal(
      canonical('((role:a or (role:b and (role:c or not (role:d)))))'),
      '(role:a or (role:b and (role:c or not role:d)))',
    );
    for (const input of ['( @ ) and ! or @', '( ( @ and ! ) ) or @', '( @ and ! or @ )']) {
      assert.equal(canonical(input), '((@ and !) or @)', input);
    }
  });

  it('reads and/or/not in any case', () => {
    assert.equal(
      canonical('role:a AND role:b Or NOT role:c'),
      '((role:a and role:b) or not role:c)',
    );
  });

  it('peels parentheses only off the ends of a word, like oslo', () => {
    // The substitution's own parentheses stay inside the check.
    assert.deepEqual(
      parseRule('(project_id:%(project_id)s)'),
      parseRule('project_id:%(project_id)s'),
    );
    // oslo reads this as one role check named "a)or(role:b", wrapped in parentheses.
    assert.deepEqual(parseRule('(role:a)or(role:b)'), {
      type: 'role',
      match: 'a)or(role:b',
      template: ['a)or(role:b'],
    });
  });

  it('splits a check at its first colon', () => {
    assert.deepEqual(parseRule('role:compute:admin'), {
      type: 'role',
      match: 'compute:admin',
      template: ['compute:admin'],
    });
    assert.deepEqual(parseRule('rule:admin_required'), { type: 'rule', name: 'admin_required' });
  });

  it('parses generic checks: credential paths, literals and target substitutions', () => {
    assert.deepEqual(parseRule('domain_id:%(target.project.domain_id)s'), {
      type: 'generic',
      kind: 'domain_id',
      left: { path: ['domain_id'] },
      match: '%(target.project.domain_id)s',
      template: [{ key: 'target.project.domain_id' }],
    });
    assert.deepEqual(parseRule("'member':%(target.role.name)s"), {
      type: 'generic',
      kind: "'member'",
      left: { literal: 'member' },
      match: '%(target.role.name)s',
      template: [{ key: 'target.role.name' }],
    });
    assert.deepEqual(parseRule('token.project.domain.id:x-%(id)s-100%%'), {
      type: 'generic',
      kind: 'token.project.domain.id',
      left: { path: ['token', 'project', 'domain', 'id'] },
      match: 'x-%(id)s-100%%',
      template: ['x-', { key: 'id' }, '-100%'],
    });
    for (const literal of ['True', 'False', 'None', '"member"', '42']) {
      const check = parseRule(`${literal}:%(x)s`);
      assert.ok(check.type === 'generic' && 'literal' in check.left, literal);
    }
  });

  it('lists the rules a check refers to', () => {
    assert.deepEqual(ruleReferences(parseRule('rule:a or (role:x and not rule:b) or rule:a')), [
      'a',
      'b',
      'a',
    ]);
  });
});

describe('parse errors', () => {
  it('name the rule and the position of the problem', () => {
    const err = parseError('role:admin and');
    assert.equal(
      err.message,
      'Cannot parse policy rule "identity:get_user" at position 14: expected a check after "and"',
    );
    assert.deepEqual(err.details, {
      rule: 'identity:get_user',
      position: 14,
      check_str: 'role:admin and',
    });
    assert.equal(err.status, 500);
    assert.ok(!(err instanceof PolicyNotAuthorized));
  });

  it('point at the offending token', () => {
    const cases: [string, number, RegExp][] = [
      ['role:a role:b', 7, /expected "and" or "or" before "role:b"/],
      ['(role:a or role:b', 0, /"\(" is never closed/],
      ['role:a or role:b)', 16, /unmatched "\)"/],
      ['(role:a or role:b role:c)', 18, /expected "\)" before "role:c"/],
      ['role:a and or role:b', 11, /expected a check, found "or"/],
      ['()', 1, /expected a check, found "\)"/],
      ['not', 3, /expected a check after "not"/],
      ['role:a or admin', 10, /"admin" is not a check/],
      ['   ', 0, /blank/],
      ['role:a or "member"', 10, /quoted string/],
      ['@ or :x', 5, /nothing before ":"/],
      ['@ or rule:', 10, /needs a rule name/],
      ['http://policy.example.com/%(name)s', 0, /http checks are not supported/],
      ['@ or https://x', 5, /https checks are not supported/],
      ["'member:%(x)s", 0, /unbalanced quote/],
      ['project_id:%(project_id', 11, /"%\(" is never closed/],
      ['project_id:%(project_id)d', 24, /only %\(name\)s/],
      ['@ and x:100%', 11, /be written %%/],
    ];
    for (const [input, position, reason] of cases) {
      const err = parseError(input, 'r');
      assert.equal(err.details?.['position'], position, input);
      assert.match(err.message, reason, input);
      assert.match(
        err.message,
        new RegExp(`^Cannot parse policy rule "r" at position ${position}: `),
      );
    }
  });
});
