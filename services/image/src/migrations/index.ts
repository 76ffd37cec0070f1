import type { Migration } from '@stratus/db';
import { metadefsMigration } from '../metadefs/migration.js';
import { initial } from './0001_initial.js';

/** The image schema's migrations, oldest first. */
export const migrations: readonly Migration[] = [initial, metadefsMigration];
