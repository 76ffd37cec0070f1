import { timingSafeEqual } from 'node:crypto';
import { BadRequest, Forbidden, NotFound, Unauthorized, defineError } from '@stratus/common';
import type { Selectable } from 'kysely';
import type { UserRow } from '../store/schema.js';
import { parseJson } from '../api/http.js';
import type { Identity } from './identity.js';
import { revoke } from './identity.js';
import { DEFAULT_DOMAIN_ID } from './bootstrap.js';

const AUTH_FAILED = 'The request you have made requires authentication.';
const fail = (): never => {
  throw new Unauthorized(AUTH_FAILED);
};

export const AccountLocked = defineError(
  'AccountLocked',
  401,
  'The account is locked for user: %s.',
  { parent: Unauthorized },
);
export const PasswordExpired = defineError(
  'PasswordExpired',
  401,
  'The password is expired and needs to be changed for user.',
  { parent: Unauthorized },
);

export interface UserRef {
  id?: string;
  name?: string;
  domain?: { id?: string; name?: string };
}

/** A domain given by id or name, as in auth and scope bodies. */
export async function findDomainId(
  identity: Identity,
  ref: { id?: string; name?: string } | undefined,
): Promise<string> {
  if (!ref || (ref.id === undefined && ref.name === undefined)) {
    throw new BadRequest('Expecting to find domain in the request: give its id or name.');
  }
  let q = identity.db.selectFrom('project').select(['id', 'enabled']).where('is_domain', '=', true);
  q = ref.id !== undefined ? q.where('id', '=', ref.id) : q.where('name', '=', ref.name ?? '');
  const row = await q.executeTakeFirst();
  if (!row) return fail();
  if (!row.enabled) return fail();
  return row.id;
}

export async function findUser(identity: Identity, ref: UserRef): Promise<Selectable<UserRow>> {
  let q = identity.db.selectFrom('identity_user').selectAll();
  if (ref.id !== undefined) q = q.where('id', '=', ref.id);
  else if (ref.name !== undefined) {
    q = q
      .where('name', '=', ref.name)
      .where('domain_id', '=', await findDomainId(identity, ref.domain));
  } else
    throw new BadRequest(
      'Expecting to find user in the request: give its id, or its name and domain.',
    );
  const user = await q.executeTakeFirst();
  return user ?? fail();
}

/**
 * The password method: the user exists and is enabled, its domain is enabled, it is not
 * locked out, and the password matches its current, unexpired password. Failed attempts
 * count towards the lockout; a success resets the count.
 */
export async function checkPassword(
  identity: Identity,
  ref: UserRef & { password?: string },
): Promise<Selectable<UserRow>> {
  if (typeof ref.password !== 'string')
    throw new BadRequest(
      "Invalid input for field 'identity/password/user/password': a string is required.",
    );
  const user = await findUser(identity, ref);
  const { settings } = identity;
  const now = new Date();
  // Keystone's per-user options exempt service accounts from the compliance rules.
  const options = parseJson(user.options);
  if (
    options['ignore_lockout_failure_attempts'] !== true &&
    settings.lockout_failure_attempts > 0 &&
    user.failed_auth_count >= settings.lockout_failure_attempts &&
    user.failed_auth_at
  ) {
    if (now.getTime() - user.failed_auth_at.getTime() < settings.lockout_duration_s * 1000) {
      throw new AccountLocked(`The account is locked for user: ${user.id}.`);
    }
  }
  const current = await identity.db
    .selectFrom('password')
    .select(['hash', 'expires_at'])
    .where('user_id', '=', user.id)
    .where('replaced_at', 'is', null)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  const ok = current ? await identity.hasher.verify(ref.password, current.hash) : false;
  if (!ok) {
    await identity.db
      .updateTable('identity_user')
      .set((eb) => ({ failed_auth_count: eb('failed_auth_count', '+', 1), failed_auth_at: now }))
      .where('id', '=', user.id)
      .execute();
    return fail();
  }
  if (!user.enabled) return fail();
  const domain = await identity.db
    .selectFrom('project')
    .select('enabled')
    .where('id', '=', user.domain_id)
    .executeTakeFirst();
  if (!domain?.enabled) return fail();
  if (
    options['ignore_password_expiry'] !== true &&
    current?.expires_at &&
    current.expires_at <= now
  ) {
    throw new PasswordExpired(
      `The password is expired and needs to be changed for user: ${user.id}.`,
    );
  }
  if (user.failed_auth_count > 0) {
    await identity.db
      .updateTable('identity_user')
      .set({ failed_auth_count: 0, failed_auth_at: null })
      .where('id', '=', user.id)
      .execute();
  }
  return user;
}

/** The application_credential method: by id, or by name and user; the secret matches. */
export async function checkApplicationCredential(
  identity: Identity,
  ref: { id?: string; name?: string; user?: UserRef; secret?: string },
): Promise<{
  user: Selectable<UserRow>;
  appCred: { id: string; project_id: string | null; system: string | null };
}> {
  if (typeof ref.secret !== 'string')
    throw new BadRequest(
      "Invalid input for field 'application_credential/secret': a string is required.",
    );
  let q = identity.db.selectFrom('application_credential').selectAll();
  if (ref.id !== undefined) q = q.where('id', '=', ref.id);
  else if (ref.name !== undefined && ref.user)
    q = q
      .where('name', '=', ref.name)
      .where('user_id', '=', (await findUser(identity, ref.user)).id);
  else throw new BadRequest('Expecting to find application credential id, or its name and user.');
  const appCred = await q.executeTakeFirst();
  if (!appCred) return fail();
  if (appCred.expires_at && appCred.expires_at <= new Date()) return fail();
  if (!(await identity.hasher.verify(ref.secret, appCred.secret_hash))) return fail();
  const user = await findUser(identity, { id: appCred.user_id });
  if (!user.enabled) return fail();
  return { user, appCred };
}

export type RequestedScope =
  { projectId: string } | { domainId: string } | { system: 'all' } | 'unscoped' | undefined;

/** Turns a scope body into ids, refusing ambiguous or unknown scopes. */
export async function resolveScope(identity: Identity, scope: unknown): Promise<RequestedScope> {
  if (scope === undefined) return undefined;
  if (scope === 'unscoped') return 'unscoped';
  if (typeof scope !== 'object' || scope === null)
    throw new BadRequest('Invalid scope: expected an object or "unscoped".');
  const s = scope as {
    project?: { id?: string; name?: string; domain?: { id?: string; name?: string } };
    domain?: { id?: string; name?: string };
    system?: { all?: boolean };
    'OS-TRUST:trust'?: unknown;
  };
  const kinds = ['project', 'domain', 'system', 'OS-TRUST:trust'].filter((k) => k in s);
  if (kinds.length !== 1)
    throw new BadRequest('Specify exactly one of project, domain or system as the scope.');
  if (s.system) {
    if (s.system.all !== true) throw new BadRequest('Only the "all" system scope is supported.');
    return { system: 'all' };
  }
  if (s.domain) {
    let q = identity.db
      .selectFrom('project')
      .select(['id', 'enabled'])
      .where('is_domain', '=', true);
    q =
      s.domain.id !== undefined
        ? q.where('id', '=', s.domain.id)
        : q.where('name', '=', s.domain.name ?? '');
    const row = await q.executeTakeFirst();
    if (!row || !row.enabled) return fail();
    return { domainId: row.id };
  }
  if (s.project) {
    let q = identity.db
      .selectFrom('project')
      .select(['id', 'enabled'])
      .where('is_domain', '=', false);
    if (s.project.id !== undefined) q = q.where('id', '=', s.project.id);
    else if (s.project.name !== undefined) {
      q = q
        .where('name', '=', s.project.name)
        .where('domain_id', '=', await findDomainId(identity, s.project.domain));
    } else
      throw new BadRequest('Expecting to find project id, or its name and domain, in the scope.');
    const row = await q.executeTakeFirst();
    if (!row || !row.enabled) return fail();
    return { projectId: row.id };
  }
  throw new NotFound('Trusts (OS-TRUST) are not supported.');
}

export { revoke, DEFAULT_DOMAIN_ID, Forbidden, timingSafeEqual };
