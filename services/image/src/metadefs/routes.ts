import type { ApiServer } from '@stratus/api-kit';
import type { RouteRegistrar } from '../api/app.js';
import type { ImageService } from '../core/service.js';
import { SCHEMAS_PATH } from './core.js';
import { registerNamespaceRoutes } from './namespaces.js';
import { registerObjectRoutes } from './objects.js';
import { registerPropertyRoutes } from './properties.js';
import { registerResourceTypeRoutes } from './resource-types.js';
import { metadefSchemaDocuments } from './schemas.js';
import { registerTagRoutes } from './tags.js';

function registerMetadefSchemaRoutes(app: ApiServer): void {
  for (const [name, document] of Object.entries(metadefSchemaDocuments()))
    app.get(`${SCHEMAS_PATH}/${name}`, async () => document);
}

/** Glance's metadata definitions catalog: /v2/metadefs/* and /v2/schemas/metadefs/*. */
export const registerMetadefRoutes: RouteRegistrar = (app: ApiServer, service: ImageService) => {
  registerMetadefSchemaRoutes(app);
  registerNamespaceRoutes(app, service);
  registerObjectRoutes(app, service);
  registerPropertyRoutes(app, service);
  registerTagRoutes(app, service);
  registerResourceTypeRoutes(app, service);
};
