import { OverQuota } from '@stratus/common';

/**
 * Glance's per-project quotas over identity's unified limits (oslo.limit): four
 * resources, two counting images and two counting MiB.
 */
export type QuotaResource =
  'image_count_total' | 'image_count_uploading' | 'image_size_total' | 'image_stage_total';

export const QUOTA_RESOURCES: readonly QuotaResource[] = [
  'image_count_total',
  'image_count_uploading',
  'image_size_total',
  'image_stage_total',
];

/** Where limits come from. `undefined`: no limit on that resource. */
export interface Quotas {
  readonly enabled: boolean;
  limit(projectId: string, resource: QuotaResource): Promise<number | undefined>;
}

/** No quotas at all (use_keystone_limits off). */
export const unlimited: Quotas = {
  enabled: false,
  limit: async () => undefined,
};

/** Fixed limits, for tests and for operators without identity limits. */
export function staticQuotas(
  limits: Partial<Record<QuotaResource, number>>,
  perProject: Record<string, Partial<Record<QuotaResource, number>>> = {},
): Quotas {
  return {
    enabled: true,
    limit: async (projectId, resource) => perProject[projectId]?.[resource] ?? limits[resource],
  };
}

interface LimitList {
  limits?: Array<{ resource_limit: number; project_id?: string | null; region_id?: string | null }>;
  registered_limits?: Array<{ default_limit: number; region_id?: string | null }>;
}

/** The entry for this region, else one for every region (no region_id). */
function inRegion<T extends { region_id?: string | null }>(
  entries: readonly T[] | undefined,
  region: string | undefined,
): T | undefined {
  return (
    entries?.find((e) => region !== undefined && e.region_id === region) ??
    entries?.find((e) => !e.region_id)
  );
}

/**
 * Limits from identity: the project's own limit, else the registered default, else
 * none. Answers are cached for `ttlMs`, as oslo.limit callers see limits change with a
 * short delay.
 */
export function keystoneQuotas(options: {
  identityGet: (path: string) => Promise<unknown>;
  region?: string;
  ttlMs?: number;
}): Quotas {
  const ttl = options.ttlMs ?? 10_000;
  const cache = new Map<string, { value: number | undefined; at: number }>();
  let serviceId: Promise<string | undefined> | undefined;
  const findService = async (): Promise<string | undefined> => {
    const body = (await options.identityGet('/services?type=image')) as {
      services?: Array<{ id: string }>;
    };
    return body.services?.[0]?.id;
  };
  return {
    enabled: true,
    async limit(projectId, resource) {
      const key = `${projectId}/${resource}`;
      const hit = cache.get(key);
      if (hit && Date.now() - hit.at < ttl) return hit.value;
      serviceId ??= findService().catch((err: unknown) => {
        serviceId = undefined;
        throw err;
      });
      const service = await serviceId;
      let value: number | undefined;
      if (service) {
        const q = `service_id=${encodeURIComponent(service)}&resource_name=${resource}`;
        const own = (await options.identityGet(
          `/limits?${q}&project_id=${encodeURIComponent(projectId)}`,
        )) as LimitList;
        value = inRegion(
          own.limits?.filter((l) => l.project_id === projectId),
          options.region,
        )?.resource_limit;
        if (value === undefined) {
          const registered = (await options.identityGet(`/registered_limits?${q}`)) as LimitList;
          value = inRegion(registered.registered_limits, options.region)?.default_limit;
        }
      }
      cache.set(key, { value, at: Date.now() });
      return value;
    },
  };
}

const MIB = 1024 * 1024;

/** Refuses with 413 when `usage + delta` would pass the project's limit of a count. */
export async function enforceQuota(
  quotas: Quotas,
  projectId: string | undefined,
  resource: 'image_count_total' | 'image_count_uploading',
  usage: () => Promise<number>,
  delta = 1,
): Promise<void> {
  if (!quotas.enabled || !projectId) return;
  const limit = await quotas.limit(projectId, resource);
  if (limit === undefined) return;
  const used = await usage();
  if (used + delta > limit) {
    throw new OverQuota(
      `Project ${projectId} is over a limit for ${resource}: ${limit} allowed, ${used} in use, ${delta} more requested.`,
      { resource, limit, used },
    );
  }
}

/** The bytes a MiB limit leaves, given bytes in use; Infinity without a limit. */
export async function remainingBytes(
  quotas: Quotas,
  projectId: string | undefined,
  resource: 'image_size_total' | 'image_stage_total',
  usedBytes: () => Promise<number>,
): Promise<number> {
  if (!quotas.enabled || !projectId) return Infinity;
  const limit = await quotas.limit(projectId, resource);
  if (limit === undefined) return Infinity;
  return Math.max(0, limit * MIB - (await usedBytes()));
}
