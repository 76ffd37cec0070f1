import type { Kysely } from 'kysely';
import type { IdentitySchema } from '../store/schema.js';
import { parseJson } from '../api/http.js';

export interface CatalogService {
  id: string;
  type: string;
  name: string;
  endpoints: Array<{
    id: string;
    interface: string;
    region_id: string | null;
    region: string | null;
    url: string;
  }>;
}

/** The service catalog as tokens carry it: enabled services with their enabled endpoints. */
export async function buildCatalog(db: Kysely<IdentitySchema>): Promise<CatalogService[]> {
  const rows = await db
    .selectFrom('endpoint')
    .innerJoin('service', 'service.id', 'endpoint.service_id')
    .select([
      'service.id as service_id',
      'service.type',
      'service.extra as service_extra',
      'endpoint.id',
      'endpoint.interface',
      'endpoint.region_id',
      'endpoint.url',
    ])
    .where('service.enabled', '=', true)
    .where('endpoint.enabled', '=', true)
    .orderBy('service.type')
    .orderBy('endpoint.interface')
    .execute();
  const services = new Map<string, CatalogService>();
  for (const r of rows) {
    let service = services.get(r.service_id);
    if (!service) {
      const name = parseJson(r.service_extra)['name'];
      service = {
        id: r.service_id,
        type: r.type,
        name: typeof name === 'string' ? name : '',
        endpoints: [],
      };
      services.set(r.service_id, service);
    }
    service.endpoints.push({
      id: r.id,
      interface: r.interface,
      region_id: r.region_id,
      region: r.region_id,
      url: r.url,
    });
  }
  return [...services.values()];
}
