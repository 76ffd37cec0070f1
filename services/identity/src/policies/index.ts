import { baseRules, type RuleDefault } from '@stratus/policy';
import { authPolicies } from './auth.js';

/**
 * The rules every identity API has: the shared base rules and those of versions and
 * auth. Each resource group brings its own (api/routes.ts lists them all).
 */
export const identityPolicies: readonly RuleDefault[] = [...baseRules, ...authPolicies];
