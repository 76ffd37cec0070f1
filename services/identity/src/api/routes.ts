import type { RuleDefault } from '@stratus/policy';
import { catalogPolicies } from '../policies/catalog.js';
import { credentialPolicies } from '../policies/credentials.js';
import { limitPolicies } from '../policies/limits.js';
import { projectPolicies } from '../policies/projects.js';
import { rolePolicies } from '../policies/roles.js';
import { userPolicies } from '../policies/users.js';
import type { RouteRegistrar } from './app.js';
import { registerCatalogRoutes } from './catalog.js';
import { registerCredentialRoutes } from './credentials.js';
import { registerLimitRoutes } from './limits.js';
import { registerProjectRoutes } from './projects.js';
import { registerRoleRoutes } from './roles.js';
import { registerUserRoutes } from './users.js';

/**
 * The identity API's resource groups and the policy rules each enforces. Versions and
 * auth are always there (with `identityPolicies`); the service serves all of these.
 */
export const routeGroups: ReadonlyArray<{
  routes: RouteRegistrar;
  policies: readonly RuleDefault[];
}> = [
  { routes: registerProjectRoutes, policies: projectPolicies },
  { routes: registerUserRoutes, policies: userPolicies },
  { routes: registerRoleRoutes, policies: rolePolicies },
  { routes: registerCatalogRoutes, policies: catalogPolicies },
  { routes: registerCredentialRoutes, policies: credentialPolicies },
  { routes: registerLimitRoutes, policies: limitPolicies },
];

export const allRoutes: readonly RouteRegistrar[] = routeGroups.map((g) => g.routes);
export const allPolicies: readonly RuleDefault[] = routeGroups.flatMap((g) => g.policies);
