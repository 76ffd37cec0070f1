import { baseRules, type RuleDefault } from '@stratus/policy';

/**
 * Glance's secure-RBAC defaults (glance/policies/*.py). The target of an image rule
 * carries the image's `project_id` and `owner` (both its owner), its `visibility`, and
 * `member_id`: the caller's project when the image is shared with it.
 */
const ADMIN = 'rule:context_is_admin';
const PROJECT_MEMBER = 'role:member and project_id:%(project_id)s';
const PROJECT_READER = 'role:reader and project_id:%(project_id)s';
const IMAGE_MEMBER = 'project_id:%(member_id)s';
const VISIBLE =
  `(project_id:%(project_id)s or ${IMAGE_MEMBER} or 'community':%(visibility)s ` +
  `or 'public':%(visibility)s or 'shared':%(visibility)s)`;
const ADMIN_OR_MEMBER = `${ADMIN} or (${PROJECT_MEMBER})`;
const ADMIN_OR_READER = `${ADMIN} or (${PROJECT_READER})`;
const SERVICE = 'rule:service_api';

const IMAGE = '/v2/images/{image_id}';
const MEMBERS = `${IMAGE}/members`;

/** A project-scoped rule with the API calls it guards, as `[method, path]` pairs. */
export function rule(
  name: string,
  check_str: string,
  description: string,
  operations: Array<[string, string]>,
): RuleDefault {
  return {
    name,
    check_str,
    description,
    scope_types: ['project'],
    operations: operations.map(([method, path]) => ({ method, path })),
  };
}

export const imagePolicies: readonly RuleDefault[] = [
  ...baseRules.filter((r) => r.name !== 'context_is_admin'),
  { name: 'context_is_admin', check_str: 'role:admin', description: 'Who is an administrator.' },
  { name: 'default', check_str: '', description: 'Rules no other default covers.' },
  {
    name: 'service_api',
    check_str: 'role:service or role:admin',
    description: 'Another service, calling the service-to-service API.',
  },
  rule(
    'add_image',
    `${ADMIN} or (${PROJECT_MEMBER} and project_id:%(owner)s)`,
    'Create a new image.',
    [['POST', '/v2/images']],
  ),
  rule('delete_image', ADMIN_OR_MEMBER, 'Delete an image.', [['DELETE', IMAGE]]),
  rule('get_image', `${ADMIN} or (role:reader and ${VISIBLE})`, 'Show an image.', [['GET', IMAGE]]),
  rule('get_images', ADMIN_OR_READER, 'List images.', [['GET', '/v2/images']]),
  rule('modify_image', ADMIN_OR_MEMBER, 'Update an image.', [['PATCH', IMAGE]]),
  rule('publicize_image', ADMIN, 'Make an image public.', [['PATCH', IMAGE]]),
  rule('communitize_image', ADMIN_OR_MEMBER, 'Make an image available to every project.', [
    ['PATCH', IMAGE],
  ]),
  rule('download_image', `${ADMIN} or (role:member and ${VISIBLE})`, "Download an image's data.", [
    ['GET', `${IMAGE}/file`],
  ]),
  rule('upload_image', ADMIN_OR_MEMBER, "Upload an image's data.", [
    ['PUT', `${IMAGE}/file`],
    ['PUT', `${IMAGE}/stage`],
  ]),
  rule('get_image_location', ADMIN_OR_READER, "Show an image's locations.", [['GET', IMAGE]]),
  rule('set_image_location', ADMIN_OR_MEMBER, "Set an image's locations.", [['PATCH', IMAGE]]),
  rule('delete_image_location', ADMIN, "Delete an image's locations.", [['PATCH', IMAGE]]),
  rule('add_member', ADMIN_OR_MEMBER, 'Share an image with a project.', [['POST', MEMBERS]]),
  rule('delete_member', ADMIN_OR_MEMBER, 'Stop sharing an image with a project.', [
    ['DELETE', `${MEMBERS}/{member_id}`],
  ]),
  rule(
    'get_member',
    `${ADMIN} or role:reader and (project_id:%(project_id)s or ${IMAGE_MEMBER})`,
    'Show an image member.',
    [['GET', `${MEMBERS}/{member_id}`]],
  ),
  rule(
    'get_members',
    `${ADMIN} or role:reader and (project_id:%(project_id)s or ${IMAGE_MEMBER})`,
    'List the members of an image.',
    [['GET', MEMBERS]],
  ),
  rule(
    'modify_member',
    `${ADMIN} or (role:member and ${IMAGE_MEMBER})`,
    'Accept or reject an image shared with the project.',
    [['PUT', `${MEMBERS}/{member_id}`]],
  ),
  rule('deactivate', ADMIN_OR_MEMBER, 'Deactivate an image.', [
    ['POST', `${IMAGE}/actions/deactivate`],
  ]),
  rule('reactivate', ADMIN_OR_MEMBER, 'Reactivate an image.', [
    ['POST', `${IMAGE}/actions/reactivate`],
  ]),
  rule('copy_image', ADMIN, 'Copy an existing image to other stores.', [
    ['POST', `${IMAGE}/import`],
  ]),
  rule('get_task', 'rule:default', 'Show a task.', [['GET', '/v2/tasks/{task_id}']]),
  rule('get_tasks', 'rule:default', 'List tasks.', [['GET', '/v2/tasks']]),
  rule('add_task', 'rule:default', 'Create a task.', [['POST', '/v2/tasks']]),
  rule('modify_task', 'rule:default', 'Modify a task.', []),
  rule('tasks_api_access', ADMIN, 'Use the tasks API directly (not through import).', [
    ['GET', '/v2/tasks'],
    ['GET', '/v2/tasks/{task_id}'],
    ['POST', '/v2/tasks'],
  ]),
  rule('stores_info_detail', `${ADMIN} or ${SERVICE}`, 'Show the details of the stores.', [
    ['GET', '/v2/info/stores/detail'],
  ]),
];
