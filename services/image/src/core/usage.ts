import type { ImageService } from './service.js';

/** Images a project owns (every status but deleted): image_count_total. */
export async function countImages(service: ImageService, owner: string): Promise<number> {
  const r = await service.db
    .selectFrom('image')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('owner', '=', owner)
    .where('status', '!=', 'deleted')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Images of a project whose data is on its way in: image_count_uploading. */
export async function countUploading(service: ImageService, owner: string): Promise<number> {
  const r = await service.db
    .selectFrom('image')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('owner', '=', owner)
    .where('status', 'in', ['saving', 'uploading', 'importing'])
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Bytes of a project's stored images, every copy counted: image_size_total. */
export async function storedBytes(service: ImageService, owner: string): Promise<number> {
  const rows = await service.db
    .selectFrom('image')
    .select(['size', 'locations'])
    .where('owner', '=', owner)
    .where('status', 'in', ['active', 'deactivated'])
    .where('size', 'is not', null)
    .execute();
  let total = 0;
  for (const r of rows)
    total += (r.size ?? 0) * Math.max(1, (JSON.parse(r.locations) as unknown[]).length);
  return total;
}

/** Bytes a project has staged for import: image_stage_total. */
export async function stagedBytes(service: ImageService, owner: string): Promise<number> {
  const r = await service.db
    .selectFrom('image')
    .select((eb) => eb.fn.sum<number | string | null>('size').as('n'))
    .where('owner', '=', owner)
    .where('status', 'in', ['uploading', 'importing'])
    .executeTakeFirstOrThrow();
  return Number(r.n ?? 0);
}
