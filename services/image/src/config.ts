import { defineSection } from '@stratus/config';
import Type, { type Static } from 'typebox';

/** The `image:` configuration section (Glance's [DEFAULT], [glance_store], [image_format] …). */
export const imageSection = defineSection(
  'image',
  Type.Object(
    {
      stores: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), {
        default: ['file'],
        description:
          'Ids of the file stores images are kept in (Glance: enabled_backends). Each keeps its data in store_dir/<id>.',
      }),
      default_store: Type.String({
        default: '',
        description: 'The store new image data goes to. Empty: the first of stores.',
      }),
      store_dir: Type.String({
        default: '',
        description: 'Where the file stores live. Empty: images/ in core.data_dir.',
      }),
      staging_dir: Type.String({
        default: '',
        description:
          'Where data staged for interoperable import waits (Glance: os_glance_staging_store). Empty: image-staging/ in core.data_dir.',
      }),
      image_size_cap: Type.Integer({
        minimum: 1,
        default: 1099511627776,
        description: 'The largest image, in bytes; a bigger upload fails with 413 (default 1 TiB).',
      }),
      disk_formats: Type.Array(Type.String(), {
        default: ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso'],
        description:
          "The disk_format values images may have. Glance's ploop is left out: its data cannot be inspected, so every upload would be refused.",
      }),
      container_formats: Type.Array(Type.String(), {
        default: ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'],
        description: 'The container_format values images may have.',
      }),
      import_methods: Type.Array(
        Type.Enum(['glance-direct', 'web-download', 'copy-image', 'glance-download']),
        {
          default: ['glance-direct', 'web-download', 'copy-image', 'glance-download'],
          description: 'The interoperable import methods offered (/v2/info/import).',
        },
      ),
      web_download_allowed_hosts: Type.Array(Type.String(), {
        default: [],
        description:
          'Hosts (or host:port) web-download may fetch from. Empty: none, so web-download refuses every URL until an operator allows some.',
      }),
      web_download_allowed_schemes: Type.Array(Type.String(), {
        default: ['http', 'https'],
        description: 'URL schemes web-download may fetch.',
      }),
      limit_param_default: Type.Integer({
        minimum: 1,
        default: 25,
        description: 'Images per page when a list request names no limit.',
      }),
      api_limit_max: Type.Integer({
        minimum: 1,
        default: 1000,
        description: 'The most images one list request returns, whatever limit it asks.',
      }),
      use_keystone_limits: Type.Boolean({
        default: false,
        description:
          'Enforce per-project quotas from identity unified limits: image_count_total, image_count_uploading, image_size_total and image_stage_total (MiB).',
      }),
      show_image_direct_url: Type.Boolean({
        default: false,
        description: "Show an image's direct_url (its store location) to users.",
      }),
      task_time_to_live_s: Type.Integer({
        minimum: 60,
        default: 172800,
        description: 'How long a finished task stays listed, in seconds (Glance: 48 h).',
      }),
      policy_file: Type.String({
        default: '',
        description: 'A policy.yaml whose rules override the defaults. Empty: the defaults.',
      }),
    },
    { description: 'The image service (Glance v2).' },
  ),
);

export type ImageSettings = Readonly<Static<(typeof imageSection)['schema']>>;
