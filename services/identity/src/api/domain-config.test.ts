import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hexId } from '@stratus/common';
import type { Kysely } from 'kysely';
import { domainConfigPolicies } from '../policies/domain-config.js';
import { identityHarness, type IdentityHarness } from '../testing/harness.js';
import { DOMAIN_CONFIG_DEFAULTS, registerDomainConfigRoutes } from './domain-config.js';

/** What Tempest's DomainConfigurationTestJSON stores. */
const CUSTOM = {
  identity: { driver: 'ldap' },
  ldap: { url: 'ldap://myldap.com:389/', user_tree_dn: 'ou=Users,dc=my_new_root,dc=org' },
};

describe('domain configuration API', () => {
  let h: IdentityHarness;
  let admin: Record<string, string>;
  let memberHeaders: Record<string, string>;

  before(async () => {
    h = await identityHarness({
      routes: [registerDomainConfigRoutes],
      policies: domainConfigPolicies,
      settings: { password_regex: '^.{8,}$', password_regex_description: 'eight or more' },
    });
    admin = { 'x-auth-token': h.adminToken };
    const project = await h.project();
    const user = await h.user();
    await h.grant({ userId: user.id }, 'member', { projectId: project });
    memberHeaders = { 'x-auth-token': await h.token(user, { project: { id: project } }) };
  });
  after(() => h.close());

  const call = (method: string, url: string, payload?: unknown, headers = admin) =>
    h.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  const withConfig = async (config: unknown = CUSTOM) => {
    const domain = await h.domain();
    const res = await call('PUT', `/v3/domains/${domain}/config`, { config });
    assert.equal(res.statusCode, 201, res.body);
    return { domain, base: `/v3/domains/${domain}/config`, created: res.json().config };
  };

  it("serves Keystone's defaults for the identity and ldap groups", async () => {
    const all = await call('GET', '/v3/domains/config/default');
    assert.equal(all.statusCode, 200);
    const config = all.json().config;
    assert.deepEqual(Object.keys(config), ['identity', 'ldap']);
    assert.deepEqual(config.identity, { driver: 'sql', list_limit: null });
    assert.equal(config.ldap.url, 'ldap://localhost');
    assert.equal(config.ldap.user_tree_dn, null);
    assert.equal(config.ldap.page_size, 0);
    assert.equal(config.ldap.use_pool, true);
    assert.deepEqual(config.ldap.user_attribute_ignore, ['default_project_id']);
    assert.ok(!('password' in config.ldap));

    const identity = await call('GET', '/v3/domains/config/identity/default');
    assert.equal(identity.statusCode, 200);
    assert.deepEqual(identity.json().config, { identity: { driver: 'sql', list_limit: null } });

    // Tempest: every option of each group reads back as `{option: value}`.
    for (const group of ['identity', 'ldap']) {
      const options = (await call('GET', `/v3/domains/config/${group}/default`)).json().config[
        group
      ];
      assert.deepEqual(Object.keys(options), Object.keys(DOMAIN_CONFIG_DEFAULTS[group] ?? {}));
      for (const [option, value] of Object.entries(options)) {
        const one = await call('GET', `/v3/domains/config/${group}/${option}/default`);
        assert.equal(one.statusCode, 200);
        assert.deepEqual(one.json().config, { [option]: value });
      }
    }

    const secret = await call('GET', '/v3/domains/config/ldap/password/default');
    assert.equal(secret.statusCode, 403);
    assert.equal(
      secret.json().error.message,
      'Invalid domain specific configuration: Reading the default for option password in group ldap is not supported.',
    );
    const group = await call('GET', '/v3/domains/config/assignment/default');
    assert.equal(group.statusCode, 403);
    assert.equal(
      group.json().error.message,
      'Invalid domain specific configuration: Group assignment is not supported for domain specific configurations.',
    );
    assert.equal((await call('GET', '/v3/domains/config/ldap/nope/default')).statusCode, 403);
  });

  it('creates a configuration and shows it whole, by group and by option', async () => {
    const { base, created } = await withConfig();
    assert.deepEqual(created, CUSTOM);
    assert.deepEqual((await call('GET', base)).json().config, CUSTOM);
    assert.equal((await call('HEAD', base)).statusCode, 200);
    for (const [group, options] of Object.entries(CUSTOM)) {
      const g = await call('GET', `${base}/${group}`);
      assert.equal(g.statusCode, 200);
      assert.deepEqual(g.json().config, { [group]: options });
      for (const [option, value] of Object.entries(options)) {
        const o = await call('GET', `${base}/${group}/${option}`);
        assert.equal(o.statusCode, 200);
        assert.deepEqual(o.json().config, { [option]: value });
      }
    }
    const unset = await call('GET', `${base}/ldap/user_filter`);
    assert.equal(unset.statusCode, 404);
    assert.match(unset.json().error.message, /^Could not find option user_filter in group ldap/);
  });

  it('replaces the whole configuration on a second PUT (200)', async () => {
    const { base } = await withConfig();
    const res = await call('PUT', base, { config: { ldap: { page_size: 50 } } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().config, { ldap: { page_size: 50 } });
    assert.equal((await call('GET', `${base}/identity`)).statusCode, 404);
  });

  it('updates (merging), shows and deletes the whole configuration', async () => {
    const { domain, base, created } = await withConfig();
    const changed = { ...created, ldap: { ...created.ldap, url: 'ldap://other.example:389/' } };
    const res = await call('PATCH', base, { config: changed });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().config, changed);
    const merged = await call('PATCH', base, { config: { ldap: { user_filter: '(x=1)' } } });
    assert.deepEqual(merged.json().config, {
      ...changed,
      ldap: { ...changed.ldap, user_filter: '(x=1)' },
    });
    assert.deepEqual((await call('GET', base)).json().config, merged.json().config);

    assert.equal((await call('DELETE', base)).statusCode, 204);
    const gone = await call('GET', base);
    assert.equal(gone.statusCode, 404);
    assert.equal(
      gone.json().error.message,
      `Could not find any options in domain configuration for domain ${domain}.`,
    );
  });

  it('updates and deletes groups and options (Tempest)', async () => {
    const { base } = await withConfig();
    const group = await call('PATCH', `${base}/identity`, {
      config: { identity: { driver: 'driver-2', list_limit: 42 } },
    });
    assert.equal(group.statusCode, 200, group.body);
    assert.deepEqual(group.json().config.identity, { driver: 'driver-2', list_limit: 42 });
    assert.deepEqual(group.json().config.ldap, CUSTOM.ldap);

    const option = await call('PATCH', `${base}/identity/driver`, {
      config: { driver: 'driver-3' },
    });
    assert.equal(option.statusCode, 200, option.body);
    assert.deepEqual(option.json().config.identity, { driver: 'driver-3', list_limit: 42 });

    assert.equal((await call('DELETE', `${base}/identity/driver`)).statusCode, 204);
    assert.equal((await call('GET', `${base}/identity/driver`)).statusCode, 404);
    assert.deepEqual((await call('GET', `${base}/identity`)).json().config, {
      identity: { list_limit: 42 },
    });
    assert.equal((await call('DELETE', `${base}/identity/driver`)).statusCode, 404);

    assert.equal((await call('DELETE', `${base}/identity`)).statusCode, 204);
    const g = await call('GET', `${base}/identity`);
    assert.equal(g.statusCode, 404);
    assert.match(g.json().error.message, /^Could not find group identity in domain configuration/);
    assert.equal((await call('DELETE', `${base}/identity`)).statusCode, 404);
    // Updating a group or option the configuration lacks is a 404, not a create.
    const absent = await call('PATCH', `${base}/identity`, {
      config: { identity: { driver: 'x' } },
    });
    assert.equal(absent.statusCode, 404);
    assert.equal(
      (await call('PATCH', `${base}/ldap/user_filter`, { config: { user_filter: 'x' } }))
        .statusCode,
      404,
    );
    assert.deepEqual((await call('GET', base)).json().config, { ldap: CUSTOM.ldap });
  });

  it('refuses groups and options Keystone does not allow (403) and bad bodies', async () => {
    const domain = await h.domain();
    const base = `/v3/domains/${domain}/config`;
    const put = (config: unknown) => call('PUT', base, { config });

    const group = await put({ assignment: { driver: 'sql' } });
    assert.equal(group.statusCode, 403);
    assert.equal(
      group.json().error.message,
      'Invalid domain specific configuration: Group assignment is not supported for domain specific configurations.',
    );
    const option = await put({
      identity: { driver: 'ldap', domain_specific_drivers_enabled: true },
    });
    assert.equal(option.statusCode, 403);
    assert.equal(
      option.json().error.message,
      'Invalid domain specific configuration: Option domain_specific_drivers_enabled in group identity is not supported for domain specific configurations.',
    );
    const empty = await put({});
    assert.equal(empty.statusCode, 403);
    assert.equal(
      empty.json().error.message,
      'Invalid domain specific configuration: No options specified.',
    );
    assert.equal((await call('PUT', base, {})).statusCode, 403);
    assert.equal((await put({ ldap: {} })).statusCode, 403);
    assert.equal((await put({ ldap: 'ldap://x' })).statusCode, 403);
    assert.equal((await put('ldap')).statusCode, 400);
    assert.equal((await put(['ldap'])).statusCode, 400);
    // Nothing was stored by any of these.
    assert.equal((await call('GET', base)).statusCode, 404);

    await put(CUSTOM);
    const mismatch = await call('PATCH', `${base}/identity`, {
      config: { ldap: { url: 'ldap://x' } },
    });
    assert.equal(mismatch.statusCode, 403);
    assert.equal(
      mismatch.json().error.message,
      'Invalid domain specific configuration: request to update group identity, but config provided contains group ldap instead.',
    );
    const twoGroups = await call('PATCH', `${base}/identity`, { config: CUSTOM });
    assert.equal(twoGroups.statusCode, 403);
    const twoOptions = await call('PATCH', `${base}/ldap/url`, {
      config: { url: 'ldap://x', user_tree_dn: 'y' },
    });
    assert.equal(twoOptions.statusCode, 403);
    const otherOption = await call('PATCH', `${base}/ldap/url`, {
      config: { user_tree_dn: 'y' },
    });
    assert.equal(otherOption.statusCode, 403);
    assert.equal((await call('GET', `${base}/assignment`)).statusCode, 403);
    assert.equal((await call('DELETE', `${base}/ldap/nope`)).statusCode, 403);
    assert.deepEqual((await call('GET', base)).json().config, CUSTOM);

    // Only domains have configurations.
    const project = await h.project();
    assert.equal(
      (await call('PUT', `/v3/domains/${project}/config`, { config: CUSTOM })).statusCode,
      404,
    );
    const unknown = await call('GET', `/v3/domains/${hexId()}/config`);
    assert.equal(unknown.statusCode, 404);
    assert.match(unknown.json().error.message, /^Could not find domain: /);
  });

  it('stores sensitive options without ever showing them', async () => {
    const { base, created } = await withConfig({
      ldap: { url: 'ldap://secure.example', user: 'cn=admin', password: 's3cret' },
    });
    assert.deepEqual(created, { ldap: { url: 'ldap://secure.example', user: 'cn=admin' } });
    assert.ok(!(await call('GET', base)).body.includes('s3cret'));
    assert.equal((await call('GET', `${base}/ldap/password`)).statusCode, 404);
    const changed = await call('PATCH', `${base}/ldap/password`, { config: { password: 'new' } });
    assert.equal(changed.statusCode, 200);
    assert.ok(!changed.body.includes('new'));
    const stored = await (h.db as unknown as Kysely<Record<string, Record<string, unknown>>>)
      .selectFrom('domain_config')
      .selectAll()
      .where('option', '=', 'password')
      .executeTakeFirstOrThrow();
    assert.equal(stored['value'], '"new"');
    assert.ok(stored['sensitive']);
    assert.equal((await call('DELETE', `${base}/ldap/password`)).statusCode, 204);
    assert.equal((await call('DELETE', `${base}/ldap/password`)).statusCode, 404);
  });

  it('shows the security compliance rules of the default domain to any user', async () => {
    const res = await call(
      'GET',
      '/v3/domains/default/config/security_compliance',
      undefined,
      memberHeaders,
    );
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().config, {
      security_compliance: {
        password_regex: '^.{8,}$',
        password_regex_description: 'eight or more',
      },
    });
    const one = await call('GET', '/v3/domains/default/config/security_compliance/password_regex');
    assert.deepEqual(one.json().config, { password_regex: '^.{8,}$' });
    const other = await call(
      'GET',
      '/v3/domains/default/config/security_compliance/lockout_duration',
    );
    assert.equal(other.statusCode, 403);
    const domain = await h.domain();
    const elsewhere = await call('GET', `/v3/domains/${domain}/config/security_compliance`);
    assert.equal(elsewhere.statusCode, 403);
    const write = await call('PATCH', '/v3/domains/default/config/security_compliance', {
      config: { security_compliance: { password_regex: '.*' } },
    });
    assert.equal(write.statusCode, 403);
  });

  it('goes with its domain', async () => {
    const { domain, base } = await withConfig();
    await h.db.deleteFrom('project').where('id', '=', domain).execute();
    const left = await (h.db as unknown as Kysely<Record<string, Record<string, unknown>>>)
      .selectFrom('domain_config')
      .selectAll()
      .where('domain_id', '=', domain)
      .execute();
    assert.deepEqual(left, []);
    assert.equal((await call('GET', base)).statusCode, 404);
  });

  it('is for admins only: a project member gets 403', async () => {
    const { base } = await withConfig();
    const m = memberHeaders;
    const refused = [
      await call('PUT', base, { config: CUSTOM }, m),
      await call('PATCH', base, { config: { ldap: { url: 'ldap://evil' } } }, m),
      await call('PATCH', `${base}/ldap`, { config: { ldap: { url: 'ldap://evil' } } }, m),
      await call('PATCH', `${base}/ldap/url`, { config: { url: 'ldap://evil' } }, m),
      await call('DELETE', base, undefined, m),
      await call('DELETE', `${base}/ldap`, undefined, m),
      await call('DELETE', `${base}/ldap/url`, undefined, m),
      await call('GET', base, undefined, m),
      await call('GET', `${base}/ldap/url`, undefined, m),
      await call('GET', '/v3/domains/config/default', undefined, m),
    ];
    assert.deepEqual(
      refused.map((r) => r.statusCode),
      refused.map(() => 403),
    );
    assert.deepEqual((await call('GET', base)).json().config, CUSTOM);
  });
});
