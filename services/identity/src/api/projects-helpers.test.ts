/**
 * Shared helpers of the projects-*.test.ts files (named like a test so that only test
 * runs load it; it has no tests of its own).
 */
import assert from 'node:assert/strict';
import { hexId } from '@stratus/common';
import { projectPolicies } from '../policies/projects.js';
import { identityHarness, type IdentityHarness } from '../testing/harness.js';
import { registerProjectRoutes } from './projects.js';

export interface Call {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, unknown>;
}

export interface ProjectsHarness extends IdentityHarness {
  call(method: string, url: string, token?: string, payload?: unknown): Promise<Call>;
  /** Creates a group in a domain (Default unless given) with these members. */
  group(members: string[], domainId?: string): Promise<string>;
}

/** The identity API with the domain and project routes, on a fresh database. */
export async function projectsHarness(): Promise<ProjectsHarness> {
  const h = await identityHarness({ routes: [registerProjectRoutes], policies: projectPolicies });
  const call = async (
    method: string,
    url: string,
    token: string | undefined = h.adminToken,
    payload?: unknown,
  ): Promise<Call> => {
    const res = await h.app.inject({
      method: method as 'GET',
      url,
      headers: token ? { 'x-auth-token': token } : {},
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
    const body: unknown = res.body ? JSON.parse(res.body) : {};
    return {
      status: res.statusCode,
      body: body as Record<string, unknown>,
      headers: res.headers as Record<string, unknown>,
    };
  };
  const group = async (members: string[], domainId = 'default'): Promise<string> => {
    const id = hexId();
    await h.db
      .insertInto('identity_group')
      .values({
        id,
        domain_id: domainId,
        name: `g-${id.slice(0, 8)}`,
        description: null,
        extra: '{}',
        created_at: new Date(),
      })
      .execute();
    for (const user_id of members) {
      await h.db.insertInto('group_membership').values({ user_id, group_id: id }).execute();
    }
    return id;
  };
  return Object.assign(h, { call, group });
}

/** The message of a Keystone error body. */
export function message(call: Call): string {
  const error = call.body['error'] as { message?: string; code?: number } | undefined;
  assert.equal(error?.code, call.status, JSON.stringify(call.body));
  return error?.message ?? '';
}

export function member<T = Record<string, unknown>>(call: Call, key: string): T {
  return call.body[key] as T;
}
