import { createHash, randomUUID } from 'node:crypto';
import type { ApiServer } from '@stratus/api-kit';
import { Unauthorized } from '@stratus/common';
import type { FastifyRequest } from 'fastify';
import type { Selectable } from 'kysely';
import { credentialCipher } from '../core/credential-keys.js';
import type { Identity } from '../core/identity.js';
import { loadProject } from '../core/token-data.js';
import type { CredentialRow } from '../store/schema.js';
import { validateToken } from './auth.js';
import { authorize, collection, notFound, selfLink } from './http.js';

type Body = Record<string, unknown>;

const CRED_TYPE_EC2 = 'ec2';

/** What OS-EC2 shows of a credential (Keystone's _convert_v3_to_ec2_credential). */
interface Ec2Credential {
  user_id: string;
  tenant_id: string | null;
  access: unknown;
  secret: unknown;
  trust_id: unknown;
}

/**
 * A credential's id is the sha256 of its access key (Keystone's utils.hash_access_key),
 * as /v3/credentials derives it for ec2 blobs (api/credentials.ts does the same inline).
 */
function hashAccessKey(access: string): string {
  return createHash('sha256').update(access, 'utf8').digest('hex');
}

/** A random key as Keystone's `uuid.uuid4().hex`: 32 lowercase hex digits. */
function uuidHex(): string {
  return randomUUID().replace(/-/g, '');
}

/**
 * A flat JSON object serialised as Python's json.dumps does by default (`", "` and
 * `": "` separators), so that the blob /v3/credentials shows is the one Keystone stores.
 */
function pythonJson(value: Body): string {
  const items = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{${items.join(', ')}}`;
}

function toEc2(userId: string, projectId: string | null, blob: string): Ec2Credential {
  let parsed: unknown;
  try {
    parsed = JSON.parse(blob);
  } catch {
    parsed = undefined;
  }
  const b: Body =
    parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Body) : {};
  return {
    user_id: userId,
    tenant_id: projectId,
    access: b['access'] ?? null,
    secret: b['secret'] ?? null,
    trust_id: b['trust_id'] ?? null,
  };
}

function render(request: FastifyRequest, c: Ec2Credential): Body {
  return {
    ...c,
    links: {
      self: selfLink(request, `users/${c.user_id}/credentials/OS-EC2/${String(c.access)}`),
    },
  };
}

/**
 * Keystone's OS-EC2 extension (/v3/users/{user_id}/credentials/OS-EC2): access/secret
 * pairs for EC2-style (S3, ec2tokens) authentication. They are ordinary credentials of
 * type `ec2` — encrypted at rest, id the sha256 of the access key, blob
 * `{"access", "secret", "trust_id"}` — so /v3/credentials shows them too.
 */
export function registerEc2Routes(app: ApiServer, identity: Identity): void {
  const { db } = identity;
  const base = '/v3/users/:user_id/credentials/OS-EC2';
  type Params = { user_id: string; credential_id: string };

  const requireUser = async (userId: string): Promise<void> => {
    const user = await db
      .selectFrom('identity_user')
      .select('id')
      .where('id', '=', userId)
      .executeTakeFirst();
    if (!user) throw notFound('user', userId);
  };

  app.get<{ Params: { user_id: string } }>(base, async (request) => {
    const userId = request.params.user_id;
    authorize(identity, request, 'identity:ec2_list_credentials', { user_id: userId });
    await requireUser(userId);
    const rows = await db
      .selectFrom('credential')
      .selectAll()
      .where('user_id', '=', userId)
      .where('type', '=', CRED_TYPE_EC2)
      .orderBy('id')
      .execute();
    const cipher = rows.length > 0 ? await credentialCipher(identity) : undefined;
    return collection(
      request,
      'credentials',
      rows.map((row) =>
        render(request, toEc2(row.user_id, row.project_id, cipher!.decrypt(row.encrypted_blob))),
      ),
    );
  });

  app.post<{ Params: { user_id: string } }>(base, async (request, reply) => {
    const userId = request.params.user_id;
    authorize(identity, request, 'identity:ec2_create_credential', {
      user_id: userId,
      credential: { user_id: userId },
    });
    await requireUser(userId);
    const body = request.body;
    const tenantId =
      body && typeof body === 'object' && !Array.isArray(body)
        ? (body as Body)['tenant_id']
        : undefined;
    // Keystone only requires the project to exist, not that the user has a role on it.
    const project = typeof tenantId === 'string' ? await loadProject(db, tenantId) : undefined;
    if (!project) throw notFound('project', tenantId == null ? 'None' : String(tenantId));
    const token = request.context.auth_token
      ? await validateToken(identity, request.context.auth_token)
      : undefined;
    const access = uuidHex();
    const secret = uuidHex();
    const blob = pythonJson({ access, secret, trust_id: token?.payload.trustId ?? null });
    const id = hashAccessKey(access);
    const { encryptedBlob, keyHash } = (await credentialCipher(identity)).encrypt(blob);
    await db
      .insertInto('credential')
      .values({
        id,
        user_id: userId,
        project_id: project.id,
        type: CRED_TYPE_EC2,
        encrypted_blob: encryptedBlob,
        key_hash: keyHash,
        extra: '{}',
      })
      .execute();
    return reply.code(201).send({ credential: render(request, toEc2(userId, project.id, blob)) });
  });

  /**
   * The credential of an access key, as Keystone finds it: missing is a 404 before any
   * policy check; policy then looks at the credential's owner; then the path's user must
   * exist, and a credential of another type is a 401.
   */
  const find = async (
    request: FastifyRequest<{ Params: Params }>,
    action: string,
  ): Promise<{ row: Selectable<CredentialRow>; ec2: Ec2Credential }> => {
    const { user_id: userId, credential_id: access } = request.params;
    const id = hashAccessKey(access);
    const row = await db
      .selectFrom('credential')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound('credential', id);
    const blob = (await credentialCipher(identity)).decrypt(row.encrypted_blob);
    authorize(identity, request, action, {
      credential: {
        id: row.id,
        user_id: row.user_id,
        project_id: row.project_id,
        type: row.type,
        blob,
      },
    });
    await requireUser(userId);
    if (row.type !== CRED_TYPE_EC2) throw new Unauthorized('EC2 access key not found.');
    return { row, ec2: toEc2(row.user_id, row.project_id, blob) };
  };

  app.get<{ Params: Params }>(`${base}/:credential_id`, async (request) => {
    const { ec2 } = await find(request, 'identity:ec2_get_credential');
    return { credential: render(request, ec2) };
  });

  app.delete<{ Params: Params }>(`${base}/:credential_id`, async (request, reply) => {
    const { row } = await find(request, 'identity:ec2_delete_credential');
    await db.deleteFrom('credential').where('id', '=', row.id).execute();
    return reply.code(204).send();
  });
}
