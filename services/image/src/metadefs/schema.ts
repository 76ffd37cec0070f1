import type { Kysely, Selectable } from 'kysely';
import type { ImageSchema } from '../db/schema.js';
import type { ImageService } from '../core/service.js';

/**
 * The tables of Glance's metadata definitions catalog (glance/db/sqlalchemy/
 * models_metadef.py): namespaces, and inside each its objects, properties, tags and
 * resource-type associations. Ids are internal; the API names everything by name.
 */
export type NamespaceVisibility = 'public' | 'private';

export interface MetadefNamespaceTable {
  id: string;
  /** The unique name clients use, e.g. `OS::Compute::Libvirt`. */
  namespace: string;
  display_name: string | null;
  description: string | null;
  visibility: NamespaceVisibility;
  protected: boolean;
  owner: string;
  created_at: Date;
  updated_at: Date;
}

export interface MetadefObjectTable {
  id: string;
  namespace_id: string;
  name: string;
  description: string | null;
  /** JSON: string[] (the names of required properties). */
  required: string;
  /** JSON: the object's properties, name → property definition. */
  json_schema: string;
  created_at: Date;
  updated_at: Date;
}

export interface MetadefPropertyTable {
  id: string;
  namespace_id: string;
  name: string;
  /** JSON: the property definition (a JSON-schema fragment) without its name. */
  json_schema: string;
  created_at: Date;
  updated_at: Date;
}

export interface MetadefTagTable {
  id: string;
  namespace_id: string;
  name: string;
  created_at: Date;
  updated_at: Date;
}

export interface MetadefResourceTypeTable {
  id: string;
  name: string;
  /** Seeded types (OS::Glance::Image …) are protected. */
  protected: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface MetadefNamespaceResourceTypeTable {
  namespace_id: string;
  resource_type_id: string;
  prefix: string | null;
  properties_target: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface MetadefSchema {
  metadef_namespace: MetadefNamespaceTable;
  metadef_object: MetadefObjectTable;
  metadef_property: MetadefPropertyTable;
  metadef_tag: MetadefTagTable;
  metadef_resource_type: MetadefResourceTypeTable;
  metadef_namespace_resource_type: MetadefNamespaceResourceTypeTable;
}

export type MetadefDb = Kysely<MetadefSchema & ImageSchema>;
export type NamespaceRow = Selectable<MetadefNamespaceTable>;
export type ObjectRow = Selectable<MetadefObjectTable>;
export type PropertyRow = Selectable<MetadefPropertyTable>;
export type TagRow = Selectable<MetadefTagTable>;

/** The image service's database, seen with the metadef tables. */
export function metadefDb(service: ImageService): MetadefDb {
  return service.db as unknown as MetadefDb;
}
