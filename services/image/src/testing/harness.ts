import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiServer, RequestContext } from '@stratus/api-kit';
import { silentLogger } from '@stratus/common';
import { loadConfig } from '@stratus/config';
import { migrate, openDatabase, type Database } from '@stratus/db';
import type { Kysely } from 'kysely';
import { buildImageApi } from '../api/app.js';
import { allPolicies, allRoutes } from '../api/routes.js';
import { imageSection, type ImageSettings } from '../config.js';
import { drain, openImageService } from '../core/open.js';
import type { Quotas } from '../core/quotas.js';
import type { ImageService } from '../core/service.js';
import type { ImageSchema } from '../db/schema.js';
import { migrations } from '../migrations/index.js';

/**
 * A caller, as tokens name them in these tests: `<role>@<project>` (admin@p1,
 * member@p2, reader@p3). keystoneAuth is replaced by this table; everything else is
 * the real service on a fresh SQLite database and file stores in a temporary directory.
 */
export function contextFor(token: string): RequestContext | undefined {
  const m = /^(admin|member|reader|service)@([\w-]+)$/.exec(token);
  if (!m) return undefined;
  const [, role = '', project = ''] = m;
  const roles =
    role === 'admin'
      ? ['admin', 'member', 'reader']
      : role === 'member'
        ? ['member', 'reader']
        : [role];
  return {
    request_id: '',
    user_id: `user-${role}-${project}`,
    user_name: `${role}-${project}`,
    user_domain_id: 'default',
    project_id: project,
    project_name: project,
    project_domain_id: 'default',
    roles,
    is_admin: false,
    auth_token: token,
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are read loosely in tests */
export interface ImageHarness {
  app: ApiServer;
  service: ImageService;
  db: Kysely<ImageSchema>;
  dataDir: string;
  /** Sends a request as `token` (see contextFor). */
  call(
    token: string,
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; headers: Record<string, unknown>; raw: Buffer }>;
  /** Creates an image as `token`; returns its document. */
  create(token: string, fields?: Record<string, unknown>): Promise<any>;
  /** Uploads data to an image; returns the status code. */
  upload(token: string, id: string, data: Buffer): Promise<{ status: number; body: any }>;
  /** Waits for background imports. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export async function imageHarness(
  options: {
    settings?: Partial<ImageSettings>;
    quotas?: Quotas;
    fetch?: typeof fetch;
    /** Where glance-download asks for the caller's catalog. */
    identityUrl?: string;
    /** An empty database to use (and leave open) instead of a fresh SQLite file. */
    database?: Database<ImageSchema>;
  } = {},
): Promise<ImageHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stratus-image-'));
  const database: Database<ImageSchema> =
    options.database ?? (await openDatabase<ImageSchema>({ service: 'image', dataDir }));
  await migrate(database, migrations);
  const settings = loadConfig({
    sections: [imageSection],
    env: {},
    overrides: { image: { ...options.settings } },
  }).image as ImageSettings;
  const service = openImageService({
    db: database.db,
    settings,
    dataDir,
    logger: silentLogger,
    policies: allPolicies,
    host: 'test-host',
    ...(options.quotas ? { quotas: options.quotas } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.identityUrl ? { identityUrl: options.identityUrl } : {}),
  });
  const app = buildImageApi(service, {
    logger: silentLogger,
    routes: allRoutes,
    authenticate: async (request) => {
      const token = request.headers['x-auth-token'];
      return typeof token === 'string' ? contextFor(token) : undefined;
    },
  });
  await app.ready();
  const call: ImageHarness['call'] = async (token, method, url, body, headers = {}) => {
    const isBuffer = Buffer.isBuffer(body);
    const res = await app.inject({
      method: method as 'GET',
      url,
      headers: {
        'x-auth-token': token,
        ...(body !== undefined
          ? { 'content-type': isBuffer ? 'application/octet-stream' : 'application/json' }
          : {}),
        ...headers,
      },
      ...(body !== undefined ? { payload: isBuffer ? body : JSON.stringify(body) } : {}),
    });
    let parsed: unknown;
    try {
      parsed = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      parsed = res.body;
    }
    return { status: res.statusCode, body: parsed, headers: res.headers, raw: res.rawPayload };
  };
  return {
    app,
    service,
    db: database.db,
    dataDir,
    call,
    async create(token, fields = {}) {
      const res = await call(token, 'POST', '/v2/images', {
        name: 'test',
        disk_format: 'raw',
        container_format: 'bare',
        ...fields,
      });
      if (res.status !== 201)
        throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async upload(token, id, data) {
      const res = await call(token, 'PUT', `/v2/images/${id}/file`, data);
      return { status: res.status, body: res.body };
    },
    drain: () => drain(service),
    async close() {
      await app.close();
      await drain(service);
      if (!options.database) await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
