export { Enforcer } from './enforcer.js';
export type {
  Credentials,
  DeprecatedRule,
  EnforceOptions,
  EnforcerOptions,
  Operation,
  RuleDefault,
  ScopeType,
} from './enforcer.js';
export {
  InvalidScope,
  PolicyDefinitionError,
  PolicyNotRegistered,
  PolicyParseError,
} from './errors.js';
export { formatCheck, parseRule } from './parser.js';
export type { Check } from './parser.js';
export { parsePolicyFile, readPolicyFile } from './policy-file.js';
export type { PolicyOverrides } from './policy-file.js';
export { renderPolicySample } from './sample.js';
export type { SampleOptions } from './sample.js';
export { allOf, anyOf, baseRules, rbac } from './base-rules.js';
