import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { TaskTable } from '../db/schema.js';
import { isoSeconds } from './images.js';
import type { ImageService } from './service.js';

export type TaskRow = Selectable<TaskTable>;

export async function createTask(
  service: ImageService,
  fields: {
    type: string;
    owner: string;
    input: unknown;
    imageId: string | null;
    requestId: string | null;
    userId: string | null;
    status?: TaskTable['status'];
  },
): Promise<TaskRow> {
  const now = new Date();
  const row: TaskRow = {
    id: randomUUID(),
    type: fields.type,
    status: fields.status ?? 'pending',
    owner: fields.owner,
    input: JSON.stringify(fields.input ?? null),
    result: null,
    message: '',
    image_id: fields.imageId,
    request_id: fields.requestId,
    user_id: fields.userId,
    expires_at: null,
    created_at: now,
    updated_at: now,
  };
  await service.db.insertInto('task').values(row).execute();
  return row;
}

/** Ends a task: success or failure, with its result or message, and its expiry. */
export async function finishTask(
  service: ImageService,
  id: string,
  outcome: { status: 'success'; result: unknown } | { status: 'failure'; message: string },
): Promise<void> {
  const now = new Date();
  await service.db
    .updateTable('task')
    .set({
      status: outcome.status,
      ...(outcome.status === 'success'
        ? { result: JSON.stringify(outcome.result) }
        : { message: outcome.message.slice(0, 2000) }),
      expires_at: new Date(now.getTime() + service.settings.task_time_to_live_s * 1000),
      updated_at: now,
    })
    .where('id', '=', id)
    .where('status', 'in', ['pending', 'processing'])
    .execute();
}

export function renderTask(task: TaskRow, detail = true): Record<string, unknown> {
  return {
    id: task.id,
    type: task.type,
    status: task.status,
    owner: task.owner,
    ...(detail
      ? {
          input: JSON.parse(task.input) as unknown,
          result: task.result === null ? null : (JSON.parse(task.result) as unknown),
          message: task.message,
        }
      : {}),
    image_id: task.image_id ?? undefined,
    request_id: task.request_id ?? undefined,
    user_id: task.user_id ?? undefined,
    expires_at: isoSeconds(task.expires_at),
    created_at: isoSeconds(task.created_at),
    updated_at: isoSeconds(task.updated_at),
    self: `/v2/tasks/${task.id}`,
    schema: '/v2/schemas/task',
  };
}
