import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiServer } from '@stratus/api-kit';
import { hexId, silentLogger } from '@stratus/common';
import { loadConfig } from '@stratus/config';
import { migrate, openDatabase, type Database } from '@stratus/db';
import type { Kysely } from 'kysely';
import { buildIdentityApi, type RouteRegistrar } from '../api/app.js';
import type { RuleDefault } from '@stratus/policy';
import { identitySection, type IdentitySettings } from '../config.js';
import { bootstrap, DEFAULT_DOMAIN_ID } from '../core/bootstrap.js';
import type { Identity } from '../core/identity.js';
import { openIdentity } from '../core/open.js';
import { migrations } from '../migrations/index.js';
import type { AssignmentType, IdentitySchema } from '../store/schema.js';

export const ADMIN_PASSWORD = 'admin-secret';

export interface TestUser {
  id: string;
  name: string;
  password: string;
}

/**
 * An identity API on a fresh SQLite database, bootstrapped, for `app.inject()` tests —
 * the real thing (migrations, bootstrap, Fernet keys, policy), with bcrypt at its lowest
 * cost so tests stay fast. Tokens come from POST /v3/auth/tokens like a client's.
 */
export interface IdentityHarness {
  app: ApiServer;
  identity: Identity;
  db: Kysely<IdentitySchema>;
  /** A project-scoped token of the bootstrap admin (admin project). */
  adminToken: string;
  adminProjectId: string;
  /** Creates a project in a domain (Default unless given); returns its id. */
  project(name?: string, domainId?: string): Promise<string>;
  /** Creates a domain; returns its id. */
  domain(name?: string): Promise<string>;
  /** Creates a user with a password in a domain (Default unless given). */
  user(options?: { name?: string; domainId?: string; password?: string }): Promise<TestUser>;
  /** Grants a role by name (admin, member, reader, manager, service …). */
  grant(
    actor: { userId?: string; groupId?: string },
    role: string,
    target: { projectId?: string; domainId?: string; system?: true },
    inherited?: boolean,
  ): Promise<void>;
  /** POST /v3/auth/tokens with a password; returns the token (throws unless 201). */
  token(
    user: { id?: string; name?: string; password: string; domainId?: string },
    scope?: unknown,
  ): Promise<string>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** The route groups under test, and their policy rules. */
  routes?: readonly RouteRegistrar[];
  policies?: readonly RuleDefault[];
  /** Identity settings for this harness (security compliance rules …). */
  settings?: Partial<IdentitySettings>;
}

export async function identityHarness(options: HarnessOptions = {}): Promise<IdentityHarness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stratus-identity-'));
  const database: Database<IdentitySchema> = await openDatabase<IdentitySchema>({
    service: 'identity',
    dataDir,
  });
  await migrate(database, migrations);
  const db = database.db;
  const settings = loadConfig({
    sections: [identitySection],
    env: {},
    overrides: {
      identity: { password_hash_rounds: 4, admin_password: ADMIN_PASSWORD, ...options.settings },
    },
  }).identity;
  const identity = await openIdentity({
    db,
    settings,
    dataDir,
    region: 'RegionOne',
    logger: silentLogger,
    policies: options.policies ?? [],
  });
  await bootstrap(db, identity.hasher, {
    adminPassword: ADMIN_PASSWORD,
    region: 'RegionOne',
    catalog: [
      {
        type: 'identity',
        name: 'keystone',
        urls: {
          public: 'http://localhost:5000/v3',
          internal: 'http://localhost:5000/v3',
          admin: 'http://localhost:5000/v3',
        },
      },
    ],
  });
  const app = buildIdentityApi(identity, { logger: silentLogger, routes: options.routes ?? [] });

  const token = async (
    user: { id?: string; name?: string; password: string; domainId?: string },
    scope?: unknown,
  ): Promise<string> => {
    const userRef = user.id
      ? { id: user.id, password: user.password }
      : {
          name: user.name,
          domain: { id: user.domainId ?? DEFAULT_DOMAIN_ID },
          password: user.password,
        };
    const res = await app.inject({
      method: 'POST',
      url: '/v3/auth/tokens',
      payload: {
        auth: {
          identity: { methods: ['password'], password: { user: userRef } },
          ...(scope !== undefined ? { scope } : {}),
        },
      },
    });
    if (res.statusCode !== 201)
      throw new Error(`token request failed: ${res.statusCode} ${res.body}`);
    return res.headers['x-subject-token'] as string;
  };

  const adminProject = await db
    .selectFrom('project')
    .select('id')
    .where('name', '=', 'admin')
    .where('domain_id', '=', DEFAULT_DOMAIN_ID)
    .executeTakeFirstOrThrow();
  const adminToken = await token(
    { name: 'admin', password: ADMIN_PASSWORD },
    { project: { id: adminProject.id } },
  );
  const now = () => new Date();

  const harness: IdentityHarness = {
    app,
    identity,
    db,
    adminToken,
    adminProjectId: adminProject.id,
    async project(name = `p-${hexId().slice(0, 8)}`, domainId = DEFAULT_DOMAIN_ID) {
      const id = hexId();
      await db
        .insertInto('project')
        .values({
          id,
          name,
          domain_id: domainId,
          parent_id: domainId,
          name_scope: domainId,
          is_domain: false,
          enabled: true,
          description: '',
          extra: '{}',
          created_at: now(),
        })
        .execute();
      return id;
    },
    async domain(name = `d-${hexId().slice(0, 8)}`) {
      const id = hexId();
      await db
        .insertInto('project')
        .values({
          id,
          name,
          domain_id: null,
          parent_id: null,
          name_scope: '',
          is_domain: true,
          enabled: true,
          description: '',
          extra: '{}',
          created_at: now(),
        })
        .execute();
      return id;
    },
    async user(options = {}) {
      const user = {
        id: hexId(),
        name: options.name ?? `u-${hexId().slice(0, 8)}`,
        password: options.password ?? `pw-${hexId()}`,
      };
      await db
        .insertInto('identity_user')
        .values({
          id: user.id,
          domain_id: options.domainId ?? DEFAULT_DOMAIN_ID,
          name: user.name,
          enabled: true,
          default_project_id: null,
          description: null,
          email: null,
          extra: '{}',
          options: '{}',
          created_at: now(),
          last_active_at: null,
          failed_auth_at: null,
        })
        .execute();
      await db
        .insertInto('password')
        .values({
          user_id: user.id,
          hash: await identity.hasher.hash(user.password),
          created_at: now(),
          expires_at: null,
          replaced_at: null,
          self_service: false,
        })
        .execute();
      return user;
    },
    async grant(actor, role, target, inherited = false) {
      const roleRow = await db
        .selectFrom('role')
        .select('id')
        .where('name', '=', role)
        .executeTakeFirstOrThrow();
      const who = actor.userId ? 'User' : 'Group';
      const [kind, targetId] = target.projectId
        ? ['Project', target.projectId]
        : target.domainId
          ? ['Domain', target.domainId]
          : ['System', 'system'];
      await db
        .insertInto('assignment')
        .values({
          type: `${who}${kind}` as AssignmentType,
          actor_id: actor.userId ?? actor.groupId ?? '',
          target_id: targetId,
          role_id: roleRow.id,
          inherited,
        })
        .execute();
      identity.tokens.invalidate();
    },
    token,
    async close() {
      identity.close();
      await app.close();
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}
