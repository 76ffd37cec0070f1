import type { RuleDefault } from '@stratus/policy';
import { userPolicies } from '../policies/users.js';
import type { RouteRegistrar } from './app.js';
import { registerUserRoutes } from './users.js';

/**
 * The identity API's resource groups and the policy rules each enforces. Versions and
 * auth are always there (with `identityPolicies`); the service serves all of these.
 */
export const routeGroups: ReadonlyArray<{
  routes: RouteRegistrar;
  policies: readonly RuleDefault[];
}> = [{ routes: registerUserRoutes, policies: userPolicies }];

export const allRoutes: readonly RouteRegistrar[] = routeGroups.map((g) => g.routes);
export const allPolicies: readonly RuleDefault[] = routeGroups.flatMap((g) => g.policies);
