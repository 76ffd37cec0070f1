import {
  keystoneVersion,
  keystoneVersions,
  type ApiServer,
  type VersionInfo,
} from '@stratus/api-kit';

/** Keystone's one API version; the minor follows the Keystone release we model. */
export const IDENTITY_V3: VersionInfo = {
  id: 'v3.14',
  status: 'stable',
  updated: '2020-04-07T00:00:00Z',
  path: '/v3/',
  mediaType: 'application/vnd.openstack.identity-v3+json',
};

/** `GET /` (300 Multiple Choices, as Keystone answers) and `GET /v3`. */
export function registerVersionRoutes(app: ApiServer): void {
  app.get('/', { config: { public: true } }, async (request, reply) => {
    return reply.code(300).send(keystoneVersions(request.baseUrl, [IDENTITY_V3]));
  });
  app.get('/v3', { config: { public: true } }, async (request) => {
    return keystoneVersion(request.baseUrl, IDENTITY_V3);
  });
}
