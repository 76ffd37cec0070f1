import type { ApiServer, RequestContext } from '@stratus/api-kit';
import { BadRequest, Conflict, Forbidden, NotFound, OverQuota } from '@stratus/common';
import { isUniqueViolation } from '@stratus/db';
import type { Selectable } from 'kysely';
import type { ImageMemberTable } from '../db/schema.js';
import { authorizeImage, findImage, isoSeconds, type ImageRow } from '../core/images.js';
import { isAdmin, type ImageService } from '../core/service.js';
import { bodyObject } from './body.js';

/** Most projects one image may be shared with (Glance's image_member_quota). */
export const MEMBER_QUOTA = 128;

type Params = { image_id: string };
type MemberParams = Params & { member_id: string };

function renderMember(m: Selectable<ImageMemberTable>) {
  return {
    created_at: isoSeconds(m.created_at),
    image_id: m.image_id,
    member_id: m.member,
    schema: '/v2/schemas/member',
    status: m.status,
    updated_at: isoSeconds(m.updated_at),
  };
}

function isOwner(service: ImageService, ctx: RequestContext, row: ImageRow): boolean {
  return isAdmin(service, ctx) || (row.owner !== null && row.owner === ctx.project_id);
}

/** Members exist only for shared images; Glance refuses the rest with 403. */
function requireShared(row: ImageRow): void {
  if (row.visibility !== 'shared')
    throw new Forbidden(
      `Only shared images have members. Image ${row.id} has visibility '${row.visibility}'.`,
    );
}

function memberNotFound(imageId: string, member: string) {
  return new NotFound(`Member ${member} not found for image ${imageId}.`);
}

export function registerMemberRoutes(app: ApiServer, service: ImageService): void {
  app.post<{ Params: Params }>('/v2/images/:image_id/members', async (request) => {
    const ctx = request.context;
    const { record, member } = await findImage(service, ctx, request.params.image_id);
    const { row } = record;
    authorizeImage(service, ctx, 'add_member', row, member);
    if (!isOwner(service, ctx, row))
      throw new Forbidden('Only the owner of an image can share it.');
    requireShared(row);
    const body = bodyObject(request);
    const memberId = body['member'];
    if (typeof memberId !== 'string' || memberId === '' || memberId.length > 255)
      throw new BadRequest("A member must be given as 'member': a project id.");
    const count = await service.db
      .selectFrom('image_member')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('image_id', '=', row.id)
      .executeTakeFirstOrThrow();
    if (Number(count.n) >= MEMBER_QUOTA)
      throw new OverQuota(`Maximum number of image members exceeded: ${MEMBER_QUOTA}.`);
    const now = new Date();
    const created = {
      image_id: row.id,
      member: memberId,
      status: 'pending' as const,
      created_at: now,
      updated_at: now,
    };
    try {
      await service.db.insertInto('image_member').values(created).execute();
    } catch (err) {
      if (isUniqueViolation(err))
        throw new Conflict(`Member ${memberId} already exists for image ${row.id}.`);
      throw err;
    }
    return renderMember(created);
  });

  app.get<{ Params: Params }>('/v2/images/:image_id/members', async (request) => {
    const ctx = request.context;
    const { record, member } = await findImage(service, ctx, request.params.image_id);
    const { row } = record;
    authorizeImage(service, ctx, 'get_members', row, member);
    requireShared(row);
    let q = service.db
      .selectFrom('image_member')
      .selectAll()
      .where('image_id', '=', row.id)
      .orderBy('created_at')
      .orderBy('member');
    // A member sees only its own membership; the owner sees them all.
    if (!isOwner(service, ctx, row)) q = q.where('member', '=', ctx.project_id ?? '');
    const members = await q.execute();
    return { members: members.map(renderMember), schema: '/v2/schemas/members' };
  });

  const findMember = async (ctx: RequestContext, params: MemberParams, action: string) => {
    const { record, member } = await findImage(service, ctx, params.image_id);
    const { row } = record;
    authorizeImage(service, ctx, action, row, member);
    const found = await service.db
      .selectFrom('image_member')
      .selectAll()
      .where('image_id', '=', row.id)
      .where('member', '=', params.member_id)
      .executeTakeFirst();
    // A member may look at its own membership only; an image that is not shared (any
    // more) has none to show.
    if (
      !found ||
      row.visibility !== 'shared' ||
      (!isOwner(service, ctx, row) && found.member !== ctx.project_id)
    )
      throw memberNotFound(row.id, params.member_id);
    return { row, found };
  };

  app.get<{ Params: MemberParams }>('/v2/images/:image_id/members/:member_id', async (request) => {
    const { found } = await findMember(request.context, request.params, 'get_member');
    return renderMember(found);
  });

  app.put<{ Params: MemberParams }>('/v2/images/:image_id/members/:member_id', async (request) => {
    const ctx = request.context;
    const { record, member } = await findImage(service, ctx, request.params.image_id);
    const { row } = record;
    if (!member && !isAdmin(service, ctx)) {
      // The owner sees the image but is not its member: Glance forbids, never 404s.
      if (isOwner(service, ctx, row))
        throw new Forbidden('Only the member itself can accept or reject a shared image.');
      throw memberNotFound(row.id, request.params.member_id);
    }
    authorizeImage(service, ctx, 'modify_member', row, member);
    requireShared(row);
    if (!isAdmin(service, ctx) && request.params.member_id !== ctx.project_id)
      throw new Forbidden('Only the member itself can accept or reject a shared image.');
    const body = bodyObject(request);
    const status = body['status'];
    if (status !== 'pending' && status !== 'accepted' && status !== 'rejected')
      throw new BadRequest(
        `Invalid status: ${JSON.stringify(status)}. It must be pending, accepted or rejected.`,
      );
    const now = new Date();
    const done = await service.db
      .updateTable('image_member')
      .set({ status, updated_at: now })
      .where('image_id', '=', row.id)
      .where('member', '=', request.params.member_id)
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) === 0) throw memberNotFound(row.id, request.params.member_id);
    const updated = await service.db
      .selectFrom('image_member')
      .selectAll()
      .where('image_id', '=', row.id)
      .where('member', '=', request.params.member_id)
      .executeTakeFirstOrThrow();
    return renderMember(updated);
  });

  app.delete<{ Params: MemberParams }>(
    '/v2/images/:image_id/members/:member_id',
    async (request, reply) => {
      const ctx = request.context;
      const { record, member } = await findImage(service, ctx, request.params.image_id);
      const { row } = record;
      authorizeImage(service, ctx, 'delete_member', row, member);
      if (!isOwner(service, ctx, row))
        throw new Forbidden('Only the owner of an image can stop sharing it.');
      requireShared(row);
      const gone = await service.db
        .deleteFrom('image_member')
        .where('image_id', '=', row.id)
        .where('member', '=', request.params.member_id)
        .executeTakeFirst();
      if (Number(gone.numDeletedRows) === 0) throw memberNotFound(row.id, request.params.member_id);
      return reply.code(204).send();
    },
  );
}
