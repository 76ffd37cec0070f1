import type { Migration } from '@stratus/db';
import { initial } from './0001_initial.js';
import { appCredExpiryMicros } from './0002_app_cred_expiry_micros.js';
import { policiesAndConsumers } from './0003_policies_consumers.js';
import { endpointGroupsAndDomainConfig } from './0004_endpoint_groups_domain_config.js';

/** The identity schema's migrations, oldest first. */
export const migrations: readonly Migration[] = [
  initial,
  appCredExpiryMicros,
  policiesAndConsumers,
  endpointGroupsAndDomainConfig,
];
