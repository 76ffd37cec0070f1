import { startApiRole, type ServiceDefinition } from '@stratus/runtime';
import { buildIdentityApi } from './api/app.js';

export { buildIdentityApi } from './api/app.js';
export { IDENTITY_V3 } from './api/versions.js';

export const identityService: ServiceDefinition = {
  name: 'identity',
  title: 'Keystone v3',
  migrations: [],
  roles: {
    api: {
      port: 'identity',
      usesDatabase: true,
      start: (ctx) => startApiRole(ctx, 'identity', buildIdentityApi(ctx)),
    },
  },
};
