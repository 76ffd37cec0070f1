import type { Migration } from '@stratus/db';
import { initial } from './0001_initial.js';

/** The image schema's migrations, oldest first. */
export const migrations: readonly Migration[] = [initial];
