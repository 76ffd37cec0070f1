import type { RuleDefault } from '@stratus/policy';
import { metadefPolicies } from '../metadefs/policies.js';
import { registerMetadefRoutes } from '../metadefs/routes.js';
import { imagePolicies } from '../policies/index.js';
import type { RouteRegistrar } from './app.js';
import { registerDataRoutes } from './data.js';
import { registerDiscoveryRoutes } from './discovery.js';
import { registerImageRoutes } from './images.js';
import { registerImportRoutes } from './import.js';
import { registerMemberRoutes } from './members.js';
import { registerSchemaRoutes } from './schemas.js';

/** Every route group of the image API. */
export const allRoutes: readonly RouteRegistrar[] = [
  registerDiscoveryRoutes,
  registerSchemaRoutes,
  registerImageRoutes,
  registerDataRoutes,
  registerImportRoutes,
  registerMemberRoutes,
  registerMetadefRoutes,
];

/** Every policy rule the image API checks. */
export const allPolicies: readonly RuleDefault[] = [...imagePolicies, ...metadefPolicies];
