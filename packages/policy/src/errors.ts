import { PolicyNotAuthorized, defineError } from '@stratus/common';

/** A check string that is not valid policy language; details name the rule and position. */
export const PolicyParseError = defineError(
  'PolicyParseError',
  500,
  'A policy rule could not be parsed.',
);

/**
 * Rules that parse but cannot work together: duplicate defaults, a cycle of `rule:`
 * references, a policy file that is not a mapping of names to check strings.
 */
export const PolicyDefinitionError = defineError(
  'PolicyDefinitionError',
  500,
  'The policy rules are not well defined.',
);

/**
 * The code asked about an action it never registered a default for (oslo's
 * `authorize`). That is a bug in the service, hence a 500, not a 403.
 */
export const PolicyNotRegistered = defineError(
  'PolicyNotRegistered',
  500,
  'The policy has not been registered.',
);

/**
 * The token's scope is not one the rule accepts. It is a PolicyNotAuthorized so the API
 * layer answers with the same 403 as any refusal, which is what nova and keystone do
 * when oslo raises InvalidScope.
 */
export const InvalidScope = defineError(
  'InvalidScope',
  403,
  'The token scope is not valid for this action.',
  { parent: PolicyNotAuthorized },
);
