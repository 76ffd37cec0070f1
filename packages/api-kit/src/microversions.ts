/**
 * OpenStack microversions (`OpenStack-API-Version: compute 2.37`), as Nova, Cinder and
 * Placement negotiate them: the client names a version per service, the server answers
 * with the version it used, and handlers shape requests and responses by it.
 */
import { BadRequest, NotAcceptable } from '@stratus/common';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/** A `major.minor` microversion. Compares numerically: 2.10 is newer than 2.9. */
export class ApiVersion {
  constructor(
    readonly major: number,
    readonly minor: number,
  ) {}

  /** Nova's grammar: no leading zeros, no signs, no spaces; undefined when malformed. */
  static parse(text: string): ApiVersion | undefined {
    const m = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(text);
    return m ? new ApiVersion(Number(m[1]), Number(m[2])) : undefined;
  }

  static from(version: ApiVersion | string): ApiVersion {
    if (version instanceof ApiVersion) return version;
    const parsed = ApiVersion.parse(version);
    if (!parsed) throw new TypeError(`not a microversion: ${version}`);
    return parsed;
  }

  /** Negative, zero or positive as this version is older than, equal to or newer than `other`. */
  compare(other: ApiVersion | string): number {
    const o = ApiVersion.from(other);
    return this.major - o.major || this.minor - o.minor;
  }

  atLeast(version: ApiVersion | string): boolean {
    return this.compare(version) >= 0;
  }

  atMost(version: ApiVersion | string): boolean {
    return this.compare(version) <= 0;
  }

  /** Inclusive at both ends; an open upper end when `max` is omitted. */
  between(min: ApiVersion | string, max?: ApiVersion | string): boolean {
    return this.atLeast(min) && (max === undefined || this.atMost(max));
  }

  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

export interface MicroversionOptions {
  /** The service type named in the header: `compute`, `volume`, `placement`. */
  service: string;
  /** A pre-standard header still sent by old clients, e.g. `X-OpenStack-Nova-API-Version`. */
  legacyHeader?: string;
  min: string;
  max: string;
  /** Used when the client asks for nothing; defaults to `min`. */
  defaultVersion?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The negotiated microversion; set only in scopes that register `microversions()`. */
    apiVersion: ApiVersion;
  }
}

export const API_VERSION_HEADER = 'openstack-api-version';

/**
 * The version string the client asked `service` for, or undefined. The standard header
 * may list several services (`compute 2.37, placement 1.10`, or repeated headers);
 * entries for other services are ignored. The legacy header counts only when the
 * standard one says nothing about this service.
 */
export function requestedVersion(
  headers: Record<string, string | string[] | undefined>,
  service: string,
  legacyHeader?: string,
): string | undefined {
  const standard = [headers[API_VERSION_HEADER] ?? []].flat().join(',');
  for (const entry of standard.split(',')) {
    const [name, ...rest] = entry.trim().split(/\s+/);
    // A bare service name leaves an empty version, which negotiation rejects as malformed.
    if (name?.toLowerCase() === service.toLowerCase()) return rest.join(' ');
  }
  if (legacyHeader) {
    const legacy = headers[legacyHeader.toLowerCase()];
    const value = (Array.isArray(legacy) ? legacy[0] : legacy)?.trim();
    if (value) return value;
  }
  return undefined;
}

interface Range {
  min: ApiVersion;
  max: ApiVersion;
  defaultVersion: ApiVersion;
}

/** The version to serve: the default when none was asked for, `max` for `latest`. */
export function negotiateVersion(requested: string | undefined, range: Range): ApiVersion {
  if (requested === undefined) return range.defaultVersion;
  if (requested.toLowerCase() === 'latest') return range.max;
  const version = ApiVersion.parse(requested);
  if (!version) {
    throw new BadRequest(
      `API Version String ${requested} is of invalid format. Must be of format MajorNum.MinorNum.`,
    );
  }
  if (!version.between(range.min, range.max)) {
    throw new NotAcceptable(
      `Version ${requested} is not supported by the API. Minimum is ${range.min} and maximum is ${range.max}.`,
    );
  }
  return version;
}

/**
 * A plugin that negotiates the microversion of every request in the scope that
 * registers it (the versioned API, not the version documents), and answers with the
 * version used, on errors too, plus `Vary` so caches keep versions apart.
 */
export function microversions(options: MicroversionOptions): FastifyPluginAsync {
  const min = ApiVersion.from(options.min);
  const max = ApiVersion.from(options.max);
  const range = { min, max, defaultVersion: ApiVersion.from(options.defaultVersion ?? min) };
  if (min.compare(max) > 0 || !range.defaultVersion.between(min, max)) {
    throw new TypeError(`microversions: need min <= default <= max for ${options.service}`);
  }
  const varyOn = ['OpenStack-API-Version', options.legacyHeader].filter(Boolean).join(', ');

  const plugin: FastifyPluginAsync = async (app) => {
    // A placeholder until the hook below negotiates each request's version.
    app.decorateRequest('apiVersion', null as unknown as ApiVersion);
    app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      const version = negotiateVersion(
        requestedVersion(request.headers, options.service, options.legacyHeader),
        range,
      );
      request.apiVersion = version;
      void reply.header(API_VERSION_HEADER, `${options.service} ${version}`);
      if (options.legacyHeader) void reply.header(options.legacyHeader, String(version));
      const vary = reply.getHeader('vary');
      void reply.header('vary', vary ? `${String(vary)}, ${varyOn}` : varyOn);
    });
  };
  // Like fastify-plugin: the hooks belong to the scope that registers the plugin,
  // not to a child scope of their own that would contain no routes.
  Object.assign(plugin, { [Symbol.for('skip-override')]: true });
  return plugin;
}
