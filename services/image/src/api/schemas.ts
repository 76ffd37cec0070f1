import type { ApiServer } from '@stratus/api-kit';
import type { ImageSettings } from '../config.js';
import type { ImageService } from '../core/service.js';

const nullable = (type: string, extra: Record<string, unknown> = {}) => ({
  type: ['null', type],
  ...extra,
});
const readOnly = (schema: Record<string, unknown>, description: string) => ({
  ...schema,
  readOnly: true,
  description,
});

/** The properties of Glance's image schema, as GET /v2/schemas/image shows them. */
export function imageSchemaProperties(settings: ImageSettings): Record<string, unknown> {
  return {
    id: {
      type: 'string',
      description: 'An identifier for the image',
      pattern:
        '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
    },
    name: nullable('string', { description: 'Descriptive name for the image', maxLength: 255 }),
    status: readOnly(
      {
        type: 'string',
        enum: [
          'queued',
          'saving',
          'active',
          'killed',
          'deleted',
          'uploading',
          'importing',
          'pending_delete',
          'deactivated',
        ],
      },
      'Status of the image',
    ),
    visibility: {
      type: 'string',
      description: 'Scope of image accessibility',
      enum: ['community', 'public', 'private', 'shared'],
    },
    protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
    os_hidden: {
      type: 'boolean',
      description: 'If true, image will not appear in default image list response.',
    },
    checksum: readOnly(nullable('string', { maxLength: 32 }), 'md5 hash of image contents.'),
    os_hash_algo: readOnly(
      nullable('string', { maxLength: 64 }),
      'Algorithm to calculate the os_hash_value',
    ),
    os_hash_value: readOnly(
      nullable('string', { maxLength: 128 }),
      'Hexdigest of the image contents using the algorithm specified by the os_hash_algo',
    ),
    owner: nullable('string', { description: 'Owner of the image', maxLength: 255 }),
    size: readOnly(nullable('integer'), 'Size of image file in bytes'),
    virtual_size: readOnly(nullable('integer'), 'Virtual size of image in bytes'),
    container_format: {
      type: ['null', 'string'],
      description: 'Format of the container',
      enum: [null, ...settings.container_formats],
    },
    disk_format: {
      type: ['null', 'string'],
      description: 'Format of the disk',
      enum: [null, ...settings.disk_formats],
    },
    created_at: readOnly({ type: 'string' }, 'Date and time of image registration'),
    updated_at: readOnly({ type: 'string' }, 'Date and time of the last image modification'),
    tags: {
      type: 'array',
      description: 'List of strings related to the image',
      items: { type: 'string', maxLength: 255 },
    },
    direct_url: readOnly({ type: 'string' }, 'URL to access the image file kept in external store'),
    min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
    min_disk: {
      type: 'integer',
      description: 'Amount of disk space (in GB) required to boot image.',
    },
    self: readOnly({ type: 'string' }, 'An image self url'),
    file: readOnly({ type: 'string' }, 'An image file url'),
    stores: readOnly(
      { type: 'string' },
      'Store in which image data resides. May be a comma-separated list of store identifiers.',
    ),
    schema: readOnly({ type: 'string' }, 'An image schema url'),
    locations: {
      type: 'array',
      description: 'A set of URLs to access the image file kept in external store',
      items: {
        type: 'object',
        properties: {
          url: { type: 'string', maxLength: 255 },
          metadata: { type: 'object' },
        },
        required: ['url', 'metadata'],
      },
    },
    // Common properties Glance's default schema-image.json declares.
    kernel_id: nullable('string', {
      pattern:
        '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
      description:
        'ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.',
      is_base: false,
    }),
    ramdisk_id: nullable('string', {
      pattern:
        '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
      description:
        'ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.',
      is_base: false,
    }),
    instance_uuid: {
      type: 'string',
      description:
        'Metadata which can be used to record which instance this image is associated with.',
      is_base: false,
    },
    architecture: {
      type: 'string',
      description:
        'Operating system architecture as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html',
      is_base: false,
    },
    os_distro: {
      type: 'string',
      description: 'Common name of operating system distribution',
      is_base: false,
    },
    os_version: {
      type: 'string',
      description: 'Operating system version as specified by the distributor',
      is_base: false,
    },
    description: {
      type: 'string',
      description: 'A human-readable string describing this image.',
      is_base: false,
    },
    cinder_encryption_key_id: {
      type: 'string',
      description:
        'Identifier in the OpenStack Key Management Service for the encryption key for the Block Storage Service to use when mounting a volume created from this image',
      is_base: false,
    },
    cinder_encryption_key_deletion_policy: {
      type: 'string',
      enum: ['on_image_deletion', 'do_not_delete'],
      description:
        "States the condition under which the Image Service will delete the object associated with the 'cinder_encryption_key_id' image property.",
      is_base: false,
    },
  };
}

const IMAGE_LINKS = [
  { rel: 'self', href: '{self}' },
  { rel: 'enclosure', href: '{file}' },
  { rel: 'describedby', href: '{schema}' },
];

export function imageSchema(settings: ImageSettings): Record<string, unknown> {
  return {
    name: 'image',
    properties: imageSchemaProperties(settings),
    additionalProperties: { type: 'string' },
    links: IMAGE_LINKS,
  };
}

/** A collection schema in Glance's shape: the item schema plus paging links. */
export function collectionSchema(
  name: string,
  item: Record<string, unknown>,
  links = true,
): Record<string, unknown> {
  return {
    name,
    properties: {
      [name]: { type: 'array', items: item },
      ...(links
        ? {
            schema: { type: 'string' },
            first: { type: 'string' },
            next: { type: 'string' },
          }
        : { schema: { type: 'string' } }),
    },
    ...(links
      ? {
          links: [
            { rel: 'first', href: '{first}' },
            { rel: 'next', href: '{next}' },
            { rel: 'describedby', href: '{schema}' },
          ],
        }
      : {}),
  };
}

export const memberSchema = {
  name: 'member',
  properties: {
    created_at: { type: 'string', description: 'Date and time of image member creation' },
    image_id: {
      type: 'string',
      description: 'An identifier for the image',
      pattern:
        '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
    },
    member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
    status: {
      type: 'string',
      description: 'The status of this image member',
      enum: ['pending', 'accepted', 'rejected'],
    },
    updated_at: {
      type: 'string',
      description: 'Date and time of last modification of image member',
    },
    schema: { type: 'string', readOnly: true },
  },
};

export const taskSchema = {
  name: 'task',
  properties: {
    id: {
      type: 'string',
      description: 'An identifier for the task',
      pattern:
        '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
    },
    type: {
      type: 'string',
      description: 'The type of task represented by this content',
      enum: ['import', 'api_image_import', 'location_import'],
    },
    status: {
      type: 'string',
      description: 'The current status of this task',
      enum: ['pending', 'processing', 'success', 'failure'],
    },
    input: { type: ['null', 'object'], description: 'The parameters required by task, JSON blob' },
    result: { type: ['null', 'object'], description: 'The result of current task, JSON blob' },
    owner: { type: 'string', description: 'An identifier for the owner of this task' },
    message: {
      type: 'string',
      description:
        'Human-readable informative message only included when appropriate (usually on failure)',
    },
    image_id: { type: 'string', description: 'Image associated with the task', readOnly: true },
    request_id: {
      type: 'string',
      description: 'Human-readable informative request-id',
      readOnly: true,
    },
    user_id: { type: 'string', description: 'User associated with the task', readOnly: true },
    expires_at: {
      type: ['null', 'string'],
      description: 'Datetime when this resource would be subject to removal',
    },
    created_at: { type: 'string', description: 'Datetime when this resource was created' },
    updated_at: { type: 'string', description: 'Datetime when this resource was updated' },
    self: { type: 'string' },
    schema: { type: 'string' },
  },
  links: [
    { rel: 'self', href: '{self}' },
    { rel: 'describedby', href: '{schema}' },
  ],
};

export function registerSchemaRoutes(app: ApiServer, service: ImageService): void {
  const image = imageSchema(service.settings);
  app.get('/v2/schemas/image', async () => image);
  app.get('/v2/schemas/images', async () => collectionSchema('images', image));
  app.get('/v2/schemas/member', async () => memberSchema);
  app.get('/v2/schemas/members', async () => ({
    name: 'members',
    properties: {
      members: { type: 'array', items: memberSchema },
      schema: { type: 'string' },
    },
    links: [{ rel: 'describedby', href: '{schema}' }],
  }));
  app.get('/v2/schemas/task', async () => taskSchema);
  app.get('/v2/schemas/tasks', async () => collectionSchema('tasks', taskSchema));
}
