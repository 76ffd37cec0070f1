import type { ApiServer } from '@stratus/api-kit';
import { BadRequest, Unauthorized, isoMicros } from '@stratus/common';
import type { FastifyRequest } from 'fastify';
import {
  checkApplicationCredential,
  checkPassword,
  findUser,
  resolveScope,
  type RequestedScope,
} from '../core/auth.js';
import { buildCatalog } from '../core/catalog.js';
import type { Identity } from '../core/identity.js';
import { effectiveRoles } from '../core/roles.js';
import { resolveToken, revocationFacts, type TokenData } from '../core/token-data.js';
import { TokenNotFound, type IssueRequest } from '../core/tokens.js';
import type { TokenPayload } from '../token/index.js';
import { authorize, collection, queryBool, selfLink } from './http.js';

const SUBJECT = 'x-subject-token';

/** Validates a token and resolves what it stands for now (the one path every check takes). */
export async function validateToken(
  identity: Identity,
  token: string,
  options: { allowExpired?: boolean; asSubject?: boolean } = {},
): Promise<TokenData> {
  // What a token stands for is remembered briefly (every local change forgets it at
  // once; see TokenService.resolved): the revocation check below still runs every time.
  let data = identity.tokens.resolved.get(token) as TokenData | undefined;
  const remembered = data !== undefined;
  const payload = await identity.tokens.validate(
    token,
    async (p) => {
      try {
        data ??= await resolveToken(identity, p);
      } catch (err) {
        if (options.asSubject && err instanceof Unauthorized) {
          throw new TokenNotFound(`Could not find token: ${token}`);
        }
        throw err;
      }
      return revocationFacts(data);
    },
    options,
  );
  data ??= await resolveToken(identity, payload);
  if (!remembered) identity.tokens.resolved.set(token, data);
  return data;
}

function ref(row: { id: string; name: string }): { id: string; name: string } {
  return { id: row.id, name: row.name };
}

/** Keystone's token body. */
export async function renderToken(
  identity: Identity,
  data: TokenData,
  withCatalog: boolean,
): Promise<Record<string, unknown>> {
  const p = data.payload;
  const token: Record<string, unknown> = {
    methods: p.methods,
    user: {
      domain: ref(data.userDomain),
      id: data.user.id,
      name: data.user.name,
      password_expires_at: data.passwordExpiresAt ? isoMicros(data.passwordExpiresAt) : null,
    },
    audit_ids: p.auditIds,
    expires_at: isoMicros(p.expiresAt),
    issued_at: isoMicros(p.issuedAt),
  };
  if (data.project && data.projectDomain) {
    token['project'] = {
      domain: ref(data.projectDomain),
      id: data.project.id,
      name: data.project.name,
    };
    token['is_domain'] = false;
  }
  if (data.domain) token['domain'] = ref(data.domain);
  if (data.system) token['system'] = { all: true };
  if (data.project || data.domain || data.system) {
    token['roles'] = data.roles.map((r) => ({ id: r.id, name: r.name }));
    if (withCatalog) token['catalog'] = await buildCatalog(identity.db);
  }
  if (data.appCred) {
    token['application_credential'] = {
      id: data.appCred.id,
      name: data.appCred.name,
      restricted: !data.appCred.unrestricted,
    };
  }
  return { token };
}

interface AuthBody {
  auth?: {
    identity?: {
      methods?: unknown;
      password?: { user?: Parameters<typeof checkPassword>[1] };
      token?: { id?: string };
      application_credential?: Parameters<typeof checkApplicationCredential>[1];
    };
    scope?: unknown;
  };
}

/**
 * Every method named must authenticate, and all of them the same user. Returns what
 * the new token is made of.
 */
async function authenticate(
  identity: Identity,
  body: AuthBody,
): Promise<IssueRequest & { scope: RequestedScope }> {
  const id = body.auth?.identity;
  if (
    !id ||
    !Array.isArray(id.methods) ||
    id.methods.length === 0 ||
    !id.methods.every((m) => typeof m === 'string')
  ) {
    throw new BadRequest(
      "Invalid input for field 'identity/methods': a non-empty list of strings is required.",
    );
  }
  const methods = [...new Set(id.methods as string[])];
  let userId: string | undefined;
  let parent: TokenPayload | undefined;
  let appCred: { id: string; project_id: string | null; system: string | null } | undefined;
  const sameUser = (u: string): void => {
    if (userId !== undefined && userId !== u)
      throw new Unauthorized('The methods authenticate different users.');
    userId = u;
  };
  for (const method of methods) {
    if (method === 'password') {
      if (!id.password?.user)
        throw new BadRequest("Invalid input for field 'identity/password/user': required.");
      sameUser((await checkPassword(identity, id.password.user)).id);
    } else if (method === 'token') {
      if (typeof id.token?.id !== 'string')
        throw new BadRequest("Invalid input for field 'identity/token/id': required.");
      // Keystone answers an invalid token given as a method like a subject token: 404.
      const data = await validateToken(identity, id.token.id, { asSubject: true });
      // A token made from an application credential cannot be turned into a broader one.
      if (data.appCred)
        throw new Unauthorized('A token made from an application credential cannot be rescoped.');
      parent = data.payload;
      sameUser(data.user.id);
    } else if (method === 'application_credential') {
      if (!id.application_credential)
        throw new BadRequest(
          "Invalid input for field 'identity/application_credential': required.",
        );
      const result = await checkApplicationCredential(identity, id.application_credential);
      appCred = result.appCred;
      sameUser(result.user.id);
    } else {
      throw new Unauthorized(`Attempted to authenticate with an unsupported method: ${method}.`);
    }
  }
  if (!userId) throw new Unauthorized();
  let scope = await resolveScope(identity, body.auth?.scope);
  if (appCred) {
    const own: RequestedScope = appCred.project_id
      ? { projectId: appCred.project_id }
      : { system: 'all' };
    if (scope && scope !== 'unscoped' && JSON.stringify(scope) !== JSON.stringify(own)) {
      throw new Unauthorized('An application credential can only be scoped to its own project.');
    }
    scope = own;
  }
  const allMethods = parent ? [...new Set([...methods, ...parent.methods])] : methods;
  return {
    userId,
    methods: allMethods,
    scope,
    ...(appCred ? { appCredId: appCred.id } : {}),
    ...(parent ? { parent: { auditIds: parent.auditIds, expiresAt: parent.expiresAt } } : {}),
  };
}

/** No scope asked for: the default project if the user has a role there, else unscoped. */
async function defaultScope(identity: Identity, userId: string): Promise<RequestedScope> {
  const user = await findUser(identity, { id: userId });
  if (!user.default_project_id) return 'unscoped';
  const project = await identity.db
    .selectFrom('project')
    .select('enabled')
    .where('id', '=', user.default_project_id)
    .executeTakeFirst();
  if (!project?.enabled) return 'unscoped';
  const roles = await effectiveRoles(identity.db, userId, { projectId: user.default_project_id });
  return roles.length > 0 ? { projectId: user.default_project_id } : 'unscoped';
}

function subjectToken(request: FastifyRequest): string {
  const value = request.headers[SUBJECT];
  if (typeof value !== 'string' || value === '')
    throw new BadRequest('X-Subject-Token is required.');
  return value;
}

export function registerAuthRoutes(app: ApiServer, identity: Identity): void {
  app.post('/v3/auth/tokens', { config: { public: true } }, async (request, reply) => {
    const body = (request.body ?? {}) as AuthBody;
    const issue = await authenticate(identity, body);
    let scope = issue.scope ?? (await defaultScope(identity, issue.userId));
    if (scope === 'unscoped') scope = undefined;
    const { token, payload } = identity.tokens.issue({ ...issue, ...(scope ?? {}) });
    const data = await resolveToken(identity, payload);
    const nocatalog =
      queryBool((request.query as Record<string, unknown>)['nocatalog'], 'nocatalog') ?? false;
    void reply.header('X-Subject-Token', token);
    return reply.code(201).send(await renderToken(identity, data, !nocatalog));
  });

  const subjectRoute = async (request: FastifyRequest, action: string) => {
    const subject = subjectToken(request);
    const query = request.query as Record<string, unknown>;
    const allowExpired = queryBool(query['allow_expired'], 'allow_expired') ?? false;
    const data = await validateToken(identity, subject, { allowExpired, asSubject: true });
    authorize(identity, request, action, { token: { user_id: data.user.id } });
    return { subject, data, nocatalog: queryBool(query['nocatalog'], 'nocatalog') ?? false };
  };

  // HEAD has its own policy (check_token), so GET does not lend it its handler.
  app.get('/v3/auth/tokens', { exposeHeadRoute: false }, async (request, reply) => {
    const { subject, data, nocatalog } = await subjectRoute(request, 'identity:validate_token');
    void reply.header('X-Subject-Token', subject);
    return renderToken(identity, data, !nocatalog);
  });

  app.head('/v3/auth/tokens', async (request, reply) => {
    const { subject } = await subjectRoute(request, 'identity:check_token');
    void reply.header('X-Subject-Token', subject);
    return reply.code(200).send();
  });

  app.delete('/v3/auth/tokens', async (request, reply) => {
    const { data } = await subjectRoute(request, 'identity:revoke_token');
    await identity.tokens.revoke(data.payload);
    return reply.code(204).send();
  });

  app.get('/v3/auth/catalog', async (request) => {
    authorize(identity, request, 'identity:get_auth_catalog');
    if (
      !request.context.project_id &&
      !request.context.domain_id &&
      !request.context.system_scope
    ) {
      throw new Unauthorized('The catalog needs a scoped token.');
    }
    return {
      catalog: await buildCatalog(identity.db),
      links: { self: selfLink(request, 'auth/catalog'), previous: null, next: null },
    };
  });

  app.get('/v3/auth/projects', async (request) => {
    authorize(identity, request, 'identity:get_auth_projects');
    const userId = request.context.user_id ?? '';
    const projects = await scopable(identity, userId, false);
    return collection(
      request,
      'projects',
      projects.map((p) => ({
        id: p.id,
        name: p.name,
        domain_id: p.domain_id,
        parent_id: p.parent_id,
        is_domain: false,
        enabled: p.enabled,
        description: p.description ?? '',
        tags: [],
        options: {},
        links: { self: selfLink(request, `projects/${p.id}`) },
      })),
    );
  });

  app.get('/v3/auth/domains', async (request) => {
    authorize(identity, request, 'identity:get_auth_domains');
    const userId = request.context.user_id ?? '';
    const domains = await scopable(identity, userId, true);
    return collection(
      request,
      'domains',
      domains.map((d) => ({
        id: d.id,
        name: d.name,
        enabled: d.enabled,
        description: d.description ?? '',
        tags: [],
        options: {},
        links: { self: selfLink(request, `domains/${d.id}`) },
      })),
    );
  });

  app.get('/v3/auth/system', async (request) => {
    authorize(identity, request, 'identity:get_auth_system');
    const roles = await effectiveRoles(identity.db, request.context.user_id ?? '', {
      system: 'all',
    });
    return {
      system: roles.length > 0 ? [{ all: true }] : [],
      links: { self: selfLink(request, 'auth/system'), previous: null, next: null },
    };
  });
}

/**
 * Enabled projects (or domains) where the user's token would carry roles: direct, via a
 * group, inherited or implied — the same test token issue applies.
 */
async function scopable(identity: Identity, userId: string, domains: boolean) {
  const rows = await identity.db
    .selectFrom('project')
    .selectAll()
    .where('is_domain', '=', domains)
    .where('enabled', '=', true)
    .orderBy('name')
    .execute();
  const out = [];
  for (const row of rows) {
    const scope = domains ? { domainId: row.id } : { projectId: row.id };
    if ((await effectiveRoles(identity.db, userId, scope)).length > 0) out.push(row);
  }
  return out;
}
