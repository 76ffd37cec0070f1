import { defineSection } from '@stratus/config';
import Type, { type Static } from 'typebox';

/** The `identity:` configuration section (Keystone's [token], [fernet_tokens], [security_compliance] …). */
export const identitySection = defineSection(
  'identity',
  Type.Object(
    {
      admin_password: Type.String({
        default: '',
        secret: true,
        description:
          'Password of the bootstrap admin user. Empty: generated on the first start, printed once and written to clouds.yaml.',
      }),
      token_expiration_s: Type.Integer({
        minimum: 60,
        default: 86400,
        description: 'How long a token is valid, in seconds (Keystone: [token] expiration).',
      }),
      allow_expired_window_s: Type.Integer({
        minimum: 0,
        default: 172800,
        description:
          'How long after expiry a service may still validate a token with allow_expired=1, in seconds.',
      }),
      key_repository: Type.String({
        default: '',
        description: 'Directory of the Fernet token keys. Empty: fernet-keys/ in core.data_dir.',
      }),
      credential_key_repository: Type.String({
        default: '',
        description:
          'Directory of the keys that encrypt credential blobs. Empty: credential-keys/ in core.data_dir.',
      }),
      max_active_keys: Type.Integer({
        minimum: 2,
        default: 3,
        description: 'Fernet keys kept by a rotation: one staged, one primary, the rest secondary.',
      }),
      rotate_keys_every_s: Type.Integer({
        minimum: 0,
        default: 0,
        description:
          'Rotate the Fernet keys automatically this often, in seconds. 0: only with `stratus identity fernet rotate`.',
      }),
      password_hash_algorithm: Type.Enum(['bcrypt', 'scrypt', 'pbkdf2_sha512'], {
        default: 'bcrypt',
        description: 'How new passwords are hashed; stored hashes of any of these still verify.',
      }),
      password_hash_rounds: Type.Integer({
        minimum: 0,
        default: 0,
        description: "Cost of the hash. 0: the algorithm's default (bcrypt 12, as Keystone).",
      }),
      lockout_failure_attempts: Type.Integer({
        minimum: 0,
        default: 0,
        description: 'Lock a user out after this many failed password attempts in a row. 0: never.',
      }),
      lockout_duration_s: Type.Integer({
        minimum: 1,
        default: 1800,
        description: 'How long a locked-out user stays locked, in seconds.',
      }),
      password_expires_days: Type.Integer({
        minimum: 0,
        default: 0,
        description: 'Days until a password expires. 0: never.',
      }),
      unique_last_password_count: Type.Integer({
        minimum: 0,
        default: 0,
        description:
          'A new password must differ from this many most recent ones, the current one included (1: not the same again). 0: no check.',
      }),
      minimum_password_age_days: Type.Integer({
        minimum: 0,
        default: 0,
        description: 'Days a user must keep a password before changing it again.',
      }),
      password_regex: Type.String({
        default: '',
        description: 'A regular expression new passwords must match. Empty: any.',
      }),
      password_regex_description: Type.String({
        default: '',
        description: 'Said to users whose password does not match password_regex.',
      }),
      change_password_upon_first_use: Type.Boolean({
        default: false,
        description: 'Users must change a password an administrator set before using it.',
      }),
      cache_size: Type.Integer({
        minimum: 0,
        default: 10000,
        description: 'Validated tokens kept in memory. 0: no cache.',
      }),
      policy_file: Type.String({
        default: '',
        description: 'A policy.yaml whose rules override the defaults. Empty: the defaults.',
      }),
    },
    { description: 'The identity service (Keystone v3).' },
  ),
);

export type IdentitySettings = Readonly<Static<(typeof identitySection)['schema']>>;
