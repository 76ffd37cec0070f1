import type { RuleDefault } from '@stratus/policy';
import { rule as imageRule } from '../policies/index.js';

/**
 * Glance's metadef rules with their secure-RBAC defaults (glance/policies/metadef.py):
 * reading is for readers of the namespace's project, or of any project when the
 * namespace is public; every write is for administrators. The target of a rule that
 * concerns a namespace carries its owner as `project_id` and its `visibility`; rules
 * checked without a namespace (listing) get the caller's own project.
 */
const ADMIN = 'rule:context_is_admin';
const METADEF_ADMIN = 'rule:metadef_admin';
const READER_OR_PUBLIC = `${ADMIN} or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))`;
const PROJECT_READER = `${ADMIN} or (role:reader and project_id:%(project_id)s)`;

const NAMESPACES = '/v2/metadefs/namespaces';
const NAMESPACE = `${NAMESPACES}/{namespace_name}`;

const DEPRECATED_REASON = 'The metadata API now supports project scope and default roles.';

/** Reads also allow their Xena-era default, as Glance's deprecated rules do. */
function rule(
  name: string,
  check_str: string,
  description: string,
  operations: Array<[string, string]>,
): RuleDefault {
  const base = imageRule(name, check_str, description, operations);
  if (check_str === METADEF_ADMIN) return base;
  return {
    ...base,
    deprecated_rule: {
      name,
      check_str: 'rule:metadef_default',
      deprecated_reason: DEPRECATED_REASON,
      deprecated_since: 'Xena',
    },
  };
}

export const metadefPolicies: readonly RuleDefault[] = [
  { name: 'metadef_default', check_str: '', description: 'The old default of metadef reads.' },
  { name: 'metadef_admin', check_str: ADMIN, description: 'Who may change metadefs.' },

  rule('get_metadef_namespace', READER_OR_PUBLIC, 'Get a specific namespace.', [
    ['GET', NAMESPACE],
  ]),
  rule('get_metadef_namespaces', PROJECT_READER, 'List namespace.', [['GET', NAMESPACES]]),
  rule('modify_metadef_namespace', METADEF_ADMIN, 'Modify an existing namespace.', [
    ['PUT', NAMESPACE],
  ]),
  rule('add_metadef_namespace', METADEF_ADMIN, 'Create a namespace.', [['POST', NAMESPACES]]),
  rule('delete_metadef_namespace', METADEF_ADMIN, 'Delete a namespace.', [
    ['DELETE', NAMESPACE],
    ['DELETE', `${NAMESPACE}/objects`],
    ['DELETE', `${NAMESPACE}/properties`],
    ['DELETE', `${NAMESPACE}/tags`],
  ]),

  rule('get_metadef_object', READER_OR_PUBLIC, 'Get a specific object from a namespace.', [
    ['GET', `${NAMESPACE}/objects/{object_name}`],
  ]),
  rule('get_metadef_objects', READER_OR_PUBLIC, 'Get objects from a namespace.', [
    ['GET', `${NAMESPACE}/objects`],
  ]),
  rule('modify_metadef_object', METADEF_ADMIN, 'Update an object within a namespace.', [
    ['PUT', `${NAMESPACE}/objects/{object_name}`],
  ]),
  rule('add_metadef_object', METADEF_ADMIN, 'Create an object within a namespace.', [
    ['POST', `${NAMESPACE}/objects`],
  ]),
  rule('delete_metadef_object', METADEF_ADMIN, 'Delete an object within a namespace.', [
    ['DELETE', `${NAMESPACE}/objects/{object_name}`],
  ]),

  rule('list_metadef_resource_types', READER_OR_PUBLIC, 'List meta definition resource types.', [
    ['GET', '/v2/metadefs/resource_types'],
  ]),
  rule(
    'get_metadef_resource_type',
    READER_OR_PUBLIC,
    'Get meta definition resource types associations.',
    [['GET', `${NAMESPACE}/resource_types`]],
  ),
  rule(
    'add_metadef_resource_type_association',
    METADEF_ADMIN,
    'Create meta definition resource types association.',
    [['POST', `${NAMESPACE}/resource_types`]],
  ),
  rule(
    'remove_metadef_resource_type_association',
    METADEF_ADMIN,
    'Delete meta definition resource types association.',
    [['DELETE', `${NAMESPACE}/resource_types/{name}`]],
  ),

  rule('get_metadef_property', READER_OR_PUBLIC, 'Get a specific meta definition property.', [
    ['GET', `${NAMESPACE}/properties/{property_name}`],
  ]),
  rule('get_metadef_properties', READER_OR_PUBLIC, 'List meta definition properties.', [
    ['GET', `${NAMESPACE}/properties`],
  ]),
  rule('modify_metadef_property', METADEF_ADMIN, 'Update meta definition property.', [
    ['PUT', `${NAMESPACE}/properties/{property_name}`],
  ]),
  rule('add_metadef_property', METADEF_ADMIN, 'Create meta definition property.', [
    ['POST', `${NAMESPACE}/properties`],
  ]),
  rule('remove_metadef_property', METADEF_ADMIN, 'Delete meta definition property.', [
    ['DELETE', `${NAMESPACE}/properties/{property_name}`],
  ]),

  rule('get_metadef_tag', READER_OR_PUBLIC, 'Get tag definition.', [
    ['GET', `${NAMESPACE}/tags/{tag_name}`],
  ]),
  rule('get_metadef_tags', READER_OR_PUBLIC, 'List tag definitions.', [
    ['GET', `${NAMESPACE}/tags`],
  ]),
  rule('modify_metadef_tag', METADEF_ADMIN, 'Update tag definition.', [
    ['PUT', `${NAMESPACE}/tags/{tag_name}`],
  ]),
  rule('add_metadef_tag', METADEF_ADMIN, 'Add tag definition.', [
    ['POST', `${NAMESPACE}/tags/{tag_name}`],
  ]),
  rule('add_metadef_tags', METADEF_ADMIN, 'Create tag definitions.', [
    ['POST', `${NAMESPACE}/tags`],
  ]),
  rule('delete_metadef_tag', METADEF_ADMIN, 'Delete tag definition.', [
    ['DELETE', `${NAMESPACE}/tags/{tag_name}`],
  ]),
  rule('delete_metadef_tags', METADEF_ADMIN, 'Delete tag definitions.', [
    ['DELETE', `${NAMESPACE}/tags`],
  ]),
];
