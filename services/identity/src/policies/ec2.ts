import type { RuleDefault } from '@stratus/policy';

const EC2 = '/v3/users/{user_id}/credentials/OS-EC2';
const CRED_OWNER = 'user_id:%(target.credential.user_id)s';
const SYSTEM_READER = '(role:reader and system_scope:all)';
const SYSTEM_ADMIN = '(role:admin and system_scope:all)';

/**
 * Keystone's OS-EC2 credential rules (keystone/common/policies/ec2_credential.py): a
 * system reader (reads) or system admin (writes), or the owner — the user of the path
 * for list and create, the user of the stored credential for show and delete. As the
 * other credential rules here, each also allows `rule:admin_required`, the rule of
 * Keystone's deprecated defaults, so that the bootstrap admin's project-scoped token
 * manages them too.
 */
export const ec2Policies: readonly RuleDefault[] = [
  {
    name: 'identity:ec2_get_credential',
    check_str: `(rule:admin_required) or ${SYSTEM_READER} or ${CRED_OWNER}`,
    scope_types: ['system', 'project'],
    description: 'Show ec2 credential details.',
    operations: [
      { method: 'GET', path: `${EC2}/{credential_id}` },
      { method: 'HEAD', path: `${EC2}/{credential_id}` },
    ],
  },
  {
    name: 'identity:ec2_list_credentials',
    check_str: `(rule:admin_required) or ${SYSTEM_READER} or rule:owner`,
    scope_types: ['system', 'project'],
    description: 'List ec2 credentials.',
    operations: [
      { method: 'GET', path: EC2 },
      { method: 'HEAD', path: EC2 },
    ],
  },
  {
    name: 'identity:ec2_create_credential',
    check_str: `(rule:admin_required) or ${SYSTEM_ADMIN} or rule:owner`,
    scope_types: ['system', 'project'],
    description: 'Create ec2 credential.',
    operations: [{ method: 'POST', path: EC2 }],
  },
  {
    name: 'identity:ec2_delete_credential',
    check_str: `(rule:admin_required) or ${SYSTEM_ADMIN} or ${CRED_OWNER}`,
    scope_types: ['system', 'project'],
    description: 'Delete ec2 credential.',
    operations: [{ method: 'DELETE', path: `${EC2}/{credential_id}` }],
  },
];
