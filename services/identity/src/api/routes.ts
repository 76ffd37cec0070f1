import type { RuleDefault } from '@stratus/policy';
import { catalogPolicies } from '../policies/catalog.js';
import { credentialPolicies } from '../policies/credentials.js';
import { domainConfigPolicies } from '../policies/domain-config.js';
import { ec2Policies } from '../policies/ec2.js';
import { endpointGroupPolicies } from '../policies/endpoint-groups.js';
import { limitPolicies } from '../policies/limits.js';
import { oauth1Policies } from '../policies/oauth1.js';
import { policyBlobPolicies } from '../policies/policies-api.js';
import { projectPolicies } from '../policies/projects.js';
import { rolePolicies } from '../policies/roles.js';
import { userPolicies } from '../policies/users.js';
import type { RouteRegistrar } from './app.js';
import { registerCatalogRoutes } from './catalog.js';
import { registerCredentialRoutes } from './credentials.js';
import { registerDomainConfigRoutes } from './domain-config.js';
import { registerEc2Routes } from './ec2.js';
import { registerEndpointGroupRoutes } from './endpoint-groups.js';
import { registerLimitRoutes } from './limits.js';
import { registerOAuth1Routes } from './oauth1.js';
import { registerPolicyRoutes } from './policies-api.js';
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
  { routes: registerEc2Routes, policies: ec2Policies },
  { routes: registerLimitRoutes, policies: limitPolicies },
  { routes: registerPolicyRoutes, policies: policyBlobPolicies },
  { routes: registerOAuth1Routes, policies: oauth1Policies },
  { routes: registerEndpointGroupRoutes, policies: endpointGroupPolicies },
  { routes: registerDomainConfigRoutes, policies: domainConfigPolicies },
];

export const allRoutes: readonly RouteRegistrar[] = routeGroups.map((g) => g.routes);
export const allPolicies: readonly RuleDefault[] = routeGroups.flatMap((g) => g.policies);
