/**
 * oslo.policy's Enforcer with today's upstream defaults: scope types are always enforced
 * and new defaults replace deprecated ones (`enforce_new_defaults = True`). A service
 * registers its rule defaults once; an operator's policy.yaml overrides them by name and
 * may add extra named rules for `rule:` references.
 */
import { PolicyNotAuthorized, silentLogger } from '@stratus/common';
import type { Logger } from '@stratus/common';
import { evaluate } from './checks.js';
import type { Attributes, RuleLookup } from './checks.js';
import { InvalidScope, PolicyDefinitionError, PolicyNotRegistered } from './errors.js';
import { formatCheck, parseRule, ruleReferences } from './parser.js';
import type { Check } from './parser.js';
import type { PolicyOverrides } from './policy-file.js';

export type ScopeType = 'system' | 'domain' | 'project';

/** An API call a rule protects, listed in the sample file (oslo's `operations`). */
export interface Operation {
  readonly method: string;
  readonly path: string;
}

/** The rule a default replaced; see oslo's DeprecatedRule. */
export interface DeprecatedRule {
  readonly name: string;
  readonly check_str: string;
  readonly deprecated_reason?: string;
  readonly deprecated_since?: string;
}

/** A rule a service ships: oslo's RuleDefault and DocumentedRuleDefault in one shape. */
export interface RuleDefault {
  readonly name: string;
  readonly check_str: string;
  readonly description?: string;
  /** The token scopes the operation makes sense for; any other scope is refused. */
  readonly scope_types?: readonly ScopeType[];
  readonly operations?: readonly Operation[];
  readonly deprecated_rule?: DeprecatedRule;
  readonly deprecated_for_removal?: boolean;
  readonly deprecated_reason?: string;
  readonly deprecated_since?: string;
}

/**
 * Who is acting. The fields are api-kit's RequestContext (oslo.context's names, which
 * rules refer to), all optional; any other field may be added and used by generic checks.
 */
export interface Credentials {
  readonly request_id?: string;
  readonly global_request_id?: string;
  readonly user_id?: string;
  readonly user_name?: string;
  readonly user_domain_id?: string;
  readonly project_id?: string;
  readonly project_name?: string;
  readonly project_domain_id?: string;
  readonly domain_id?: string;
  readonly system_scope?: string;
  readonly roles?: readonly string[];
  readonly is_admin?: boolean;
  readonly is_admin_project?: boolean;
  readonly auth_token?: string;
}

export interface EnforcerOptions {
  /** Operator rules by name (a parsed policy.yaml); they win over the defaults. */
  readonly overrides?: PolicyOverrides;
  /**
   * oslo's `enforce_new_defaults`. When false, a default that replaced a deprecated rule
   * also allows whatever the deprecated rule allowed, to ease an upgrade.
   */
  readonly enforceNewDefaults?: boolean;
  readonly logger?: Logger;
}

export interface EnforceOptions {
  /** Throw PolicyNotAuthorized (InvalidScope for a wrong scope) instead of returning false. */
  readonly doRaise?: boolean;
}

interface Registered {
  readonly rule: RuleDefault;
  readonly check: Check;
  readonly deprecated: Check | undefined;
}

export class Enforcer {
  private readonly registered = new Map<string, Registered>();
  private readonly enforceNewDefaults: boolean;
  private readonly logger: Logger;
  private rules: ReadonlyMap<string, Check> = new Map();
  private readonly lookup: RuleLookup = (name) => this.rules.get(name);

  constructor(defaults: readonly RuleDefault[], options: EnforcerOptions = {}) {
    this.enforceNewDefaults = options.enforceNewDefaults ?? true;
    this.logger = options.logger ?? silentLogger;
    for (const rule of defaults) {
      if (this.registered.has(rule.name)) {
        throw new PolicyDefinitionError(`Policy ${rule.name} is already registered`, {
          rule: rule.name,
        });
      }
      const old = rule.deprecated_rule;
      this.registered.set(rule.name, {
        rule,
        check: parseRule(rule.check_str, rule.name),
        deprecated: old && parseRule(old.check_str, `${old.name} (deprecated)`),
      });
    }
    this.setOverrides(options.overrides ?? {});
  }

  /**
   * Replaces the operator's rules, e.g. after policy.yaml changed. Everything is parsed
   * and checked before anything is swapped in, so a bad file leaves the old rules working.
   */
  setOverrides(overrides: PolicyOverrides): void {
    const fileRules = new Map<string, Check>();
    for (const [name, checkStr] of Object.entries(overrides)) {
      fileRules.set(name, parseRule(checkStr, name));
    }
    const rules = new Map(fileRules);
    for (const entry of this.registered.values()) {
      const { rule } = entry;
      if (rule.deprecated_for_removal && fileRules.has(rule.name)) {
        this.logger.warn(
          { rule: rule.name, since: rule.deprecated_since, reason: rule.deprecated_reason },
          `Policy "${rule.name}" is deprecated for removal; its override may be ignored in future`,
        );
      }
      if (!rules.has(rule.name)) rules.set(rule.name, this.defaultCheck(entry, fileRules));
    }
    const cycle = findCycle(rules);
    if (cycle) {
      const message = `Policy rules refer to each other in a cycle: ${cycle.join(' -> ')}`;
      throw new PolicyDefinitionError(message, { cycle });
    }
    const dangling = [...rules].filter(([, check]) =>
      ruleReferences(check).some((ref) => !rules.has(ref)),
    );
    if (dangling.length > 0) {
      // oslo only warns: such a reference is simply false when evaluated.
      this.logger.warn(
        { rules: dangling.map(([name]) => name) },
        'Policies reference a rule that is not defined',
      );
    }
    this.rules = rules;
  }

  /**
   * Whether the credentials may perform `action` on `target` (oslo's `authorize`: the
   * action must have a registered default). The scope check comes first.
   */
  enforce(
    action: string,
    target: object,
    credentials: Credentials | Attributes,
    options: EnforceOptions = {},
  ): boolean {
    const entry = this.registered.get(action);
    if (!entry) {
      throw new PolicyNotRegistered(`Policy ${action} has not been registered`, { action });
    }
    const creds = normaliseCredentials(credentials as Attributes);
    const scopes = entry.rule.scope_types;
    if (scopes && scopes.length > 0) {
      const scope = tokenScope(creds);
      if (!scopes.includes(scope)) {
        if (!options.doRaise) return false;
        throw new InvalidScope(notAllowed(action), {
          action,
          scope_types: [...scopes],
          token_scope: scope,
          reason: `${action} requires a scope of ${scopes.join(', ')}, request was made with ${scope} scope.`,
        });
      }
    }
    const check = this.rules.get(action);
    const allowed =
      check !== undefined && evaluate(check, target as Attributes, creds, this.lookup);
    if (!allowed && options.doRaise) throw new PolicyNotAuthorized(notAllowed(action), { action });
    return allowed;
  }

  /** The rule in force for `name`, in oslo's canonical form; undefined when there is none. */
  effectiveRule(name: string): string | undefined {
    const check = this.rules.get(name);
    return check && formatCheck(check);
  }

  /** oslo's `_handle_deprecated_rule`: what a default means given the operator's file. */
  private defaultCheck(entry: Registered, fileRules: ReadonlyMap<string, Check>): Check {
    const { rule, check, deprecated } = entry;
    const old = rule.deprecated_rule;
    if (!old || !deprecated) return check;
    const renamedOverride = old.name !== rule.name ? fileRules.get(old.name) : undefined;
    if (renamedOverride) {
      this.logger.warn(
        { rule: rule.name, deprecated: old.name },
        `Policy "${old.name}" was renamed to "${rule.name}"; update the policy file`,
      );
      // An operator who customised the old name keeps that customisation under the new
      // one, so an upgrade never widens access behind their back.
      const custom = formatCheck(renamedOverride);
      if (custom !== formatCheck(deprecated) && custom !== `rule:${rule.name}`) {
        return renamedOverride;
      }
    }
    if (!this.enforceNewDefaults && old.check_str !== rule.check_str) {
      return { type: 'or', checks: [check, deprecated] };
    }
    return check;
  }
}

/** The message nova and keystone return with a policy 403. */
function notAllowed(action: string): string {
  return `Policy doesn't allow ${action} to be performed.`;
}

/**
 * oslo copies `system_scope` to `system` because rules written before oslo.context
 * existed test `system:all`; the copy keeps those rules working.
 */
function normaliseCredentials(creds: Attributes): Attributes {
  return creds['system_scope'] ? { ...creds, system: creds['system_scope'] } : creds;
}

function tokenScope(creds: Attributes): ScopeType {
  if (creds['system']) return 'system';
  if (creds['domain_id'] && !creds['project_id']) return 'domain';
  // oslo treats everything else, unscoped tokens included, as project scope.
  return 'project';
}

/** The first chain of `rule:` references that leads back to where it started, if any. */
function findCycle(rules: ReadonlyMap<string, Check>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    const start = path.indexOf(name);
    if (start >= 0) return [...path.slice(start), name];
    const check = rules.get(name);
    if (done.has(name) || !check) return undefined;
    path.push(name);
    for (const ref of ruleReferences(check)) {
      const cycle = visit(ref);
      if (cycle) return cycle;
    }
    path.pop();
    done.add(name);
    return undefined;
  };
  for (const name of rules.keys()) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}
