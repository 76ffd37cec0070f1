import type { Generated } from 'kysely';

/** The identity database as Kysely sees it (see migrations/0001_initial.ts). */
export interface IdentitySchema {
  project: ProjectRow;
  project_tag: { project_id: string; name: string };
  identity_user: UserRow;
  password: PasswordRow;
  identity_group: GroupRow;
  group_membership: { user_id: string; group_id: string };
  role: RoleRow;
  implied_role: { prior_role_id: string; implied_role_id: string };
  assignment: AssignmentRow;
  region: { id: string; description: string; parent_region_id: string | null; extra: string };
  service: { id: string; type: string; enabled: boolean; extra: string };
  endpoint: EndpointRow;
  credential: CredentialRow;
  application_credential: ApplicationCredentialRow;
  application_credential_role: { application_credential_id: string; role_id: string };
  access_rule: { id: string; user_id: string; service: string; path: string; method: string };
  application_credential_access_rule: { application_credential_id: string; access_rule_id: string };
  registered_limit: RegisteredLimitRow;
  project_limit: ProjectLimitRow;
  revocation_event: RevocationEventRow;
}

export interface ProjectRow {
  id: string;
  name: string;
  domain_id: string | null;
  parent_id: string | null;
  name_scope: string;
  is_domain: boolean;
  enabled: boolean;
  description: string | null;
  /** JSON: `{ options, ...extra attributes }`. */
  extra: string;
  created_at: Date;
}

export interface UserRow {
  id: string;
  domain_id: string;
  name: string;
  enabled: boolean;
  default_project_id: string | null;
  description: string | null;
  email: string | null;
  extra: string;
  options: string;
  created_at: Date;
  last_active_at: Date | null;
  failed_auth_count: Generated<number>;
  failed_auth_at: Date | null;
}

export interface PasswordRow {
  id: Generated<number>;
  user_id: string;
  hash: string;
  created_at: Date;
  expires_at: Date | null;
  replaced_at: Date | null;
  self_service: boolean;
}

export interface GroupRow {
  id: string;
  domain_id: string;
  name: string;
  description: string | null;
  extra: string;
  created_at: Date;
}

export interface RoleRow {
  id: string;
  name: string;
  /** '' for a global role. */
  domain_id: string;
  description: string | null;
  options: string;
  extra: string;
}

export type AssignmentType =
  'UserProject' | 'GroupProject' | 'UserDomain' | 'GroupDomain' | 'UserSystem' | 'GroupSystem';

export interface AssignmentRow {
  type: AssignmentType;
  actor_id: string;
  target_id: string;
  role_id: string;
  inherited: boolean;
}

export interface EndpointRow {
  id: string;
  service_id: string;
  interface: string;
  region_id: string | null;
  url: string;
  enabled: boolean;
  extra: string;
}

export interface CredentialRow {
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  encrypted_blob: string;
  key_hash: string;
  extra: string;
}

export interface ApplicationCredentialRow {
  id: string;
  name: string;
  user_id: string;
  project_id: string | null;
  system: string | null;
  secret_hash: string;
  description: string | null;
  expires_at: Date | null;
  /** The microseconds of expires_at, which the timestamp column rounds to milliseconds. */
  expires_at_micros: number | null;
  unrestricted: boolean;
  created_at: Date;
}

export interface RegisteredLimitRow {
  id: string;
  service_id: string;
  region_id: string | null;
  resource_name: string;
  default_limit: number;
  description: string | null;
}

export interface ProjectLimitRow {
  id: string;
  project_id: string | null;
  domain_id: string | null;
  service_id: string;
  region_id: string | null;
  resource_name: string;
  resource_limit: number;
  description: string | null;
}

export interface RevocationEventRow {
  id: Generated<number>;
  domain_id: string | null;
  project_id: string | null;
  user_id: string | null;
  role_id: string | null;
  audit_id: string | null;
  audit_chain_id: string | null;
  issued_before: Date;
  expires_at: Date | null;
  revoked_at: Date;
}
