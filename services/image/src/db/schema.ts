/** Glance's image statuses (the api-ref's "Image statuses"). */
export type ImageStatus =
  | 'queued'
  | 'saving'
  | 'uploading'
  | 'importing'
  | 'active'
  | 'deactivated'
  | 'killed'
  | 'deleted'
  | 'pending_delete';

export type Visibility = 'public' | 'private' | 'shared' | 'community';

/** Where one copy of an image's data lives. */
export interface ImageLocation {
  url: string;
  /** The id of the store holding it. */
  store: string;
  metadata: Record<string, unknown>;
}

export interface ImageTable {
  id: string;
  name: string | null;
  status: ImageStatus;
  visibility: Visibility;
  protected: boolean;
  os_hidden: boolean;
  disk_format: string | null;
  container_format: string | null;
  size: number | null;
  virtual_size: number | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  min_disk: number;
  min_ram: number;
  owner: string | null;
  /** JSON: ImageLocation[]. */
  locations: string;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  /**
   * Which process is writing the image's data (saving, importing), and when it last
   * said so: a stale heartbeat means that process died mid-upload.
   */
  worker: string | null;
  heartbeat_at: Date | null;
}

export interface ImagePropertyTable {
  image_id: string;
  name: string;
  value: string;
}

export interface ImageTagTable {
  image_id: string;
  value: string;
}

export type MemberStatus = 'pending' | 'accepted' | 'rejected';

export interface ImageMemberTable {
  image_id: string;
  member: string;
  status: MemberStatus;
  created_at: Date;
  updated_at: Date;
}

export type TaskStatus = 'pending' | 'processing' | 'success' | 'failure';

export interface TaskTable {
  id: string;
  type: string;
  status: TaskStatus;
  owner: string;
  /** JSON. */
  input: string;
  /** JSON or null. */
  result: string | null;
  message: string;
  image_id: string | null;
  request_id: string | null;
  user_id: string | null;
  expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface ImageSchema {
  image: ImageTable;
  image_property: ImagePropertyTable;
  image_tag: ImageTagTable;
  image_member: ImageMemberTable;
  task: TaskTable;
}
