import { baseRules, type RuleDefault } from '@stratus/policy';
import { authPolicies } from './auth.js';

/** Every rule the identity API enforces, with the shared base rules they refer to. */
export const identityPolicies: readonly RuleDefault[] = [...baseRules, ...authPolicies];
