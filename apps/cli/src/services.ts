import { identityService } from '@stratus/identity';
import { imageService } from '@stratus/image';
import type { ServiceDefinition } from '@stratus/runtime';

/** Every service this build of Stratus implements, in start order. */
export const SERVICES: readonly ServiceDefinition[] = [identityService, imageService];
