import type { RuleDefault } from '@stratus/policy';
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
];

/** Every policy rule the image API checks. */
export const allPolicies: readonly RuleDefault[] = [...imagePolicies];
