export { createApiServer, DEFAULT_BODY_LIMIT } from './server.js';
export type { ApiServer, ApiServerOptions } from './server.js';
export { anonymousContext } from './context.js';
export type { RequestContext } from './context.js';
export { errorBody, toStratusError, validationMessage } from './errors.js';
export type { ErrorFormat } from './errors.js';
export { requestBaseUrl } from './base-url.js';
export {
  ApiVersion,
  API_VERSION_HEADER,
  microversions,
  negotiateVersion,
  requestedVersion,
} from './microversions.js';
export type { MicroversionOptions } from './microversions.js';
export { keystoneVersion, keystoneVersions, novaVersion, novaVersions } from './versions.js';
export type { Link, VersionInfo } from './versions.js';
export { paginationLinks, parseListQuery } from './list.js';
export type { ListQuery, ListQueryOptions, PaginationOptions, SortDir, SortSpec } from './list.js';
export { runHealthChecks } from './healthcheck.js';
export type { HealthCheck, HealthReport } from './healthcheck.js';
export { keystoneAuth } from './keystone-auth.js';
export type { KeystoneAuth, KeystoneAuthOptions, ValidatedContext } from './keystone-auth.js';
