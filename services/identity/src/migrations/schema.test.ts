import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { isForeignKeyViolation, isUniqueViolation, migrate } from '@stratus/db';
import { describeEachDatabase } from '@stratus/db/testing';
import { migrations } from './index.js';

const now = new Date();

describeEachDatabase('identity schema', (ctx) => {
  it('applies on an empty database and enforces its keys', async () => {
    const database = await ctx.open();
    after(() => database.close());
    assert.deepEqual(
      await migrate(database, migrations),
      migrations.map((m) => m.id),
    );
    assert.deepEqual(await migrate(database, migrations), []);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw rows for a schema test
    const db = database.db as any;
    const domain = {
      id: 'default',
      name: 'Default',
      domain_id: null,
      parent_id: null,
      name_scope: '',
      is_domain: true,
      enabled: true,
      description: '',
      extra: '{}',
      created_at: now,
    };
    await db.insertInto('project').values(domain).execute();
    const project = {
      ...domain,
      id: 'p1',
      name: 'admin',
      domain_id: 'default',
      parent_id: 'default',
      name_scope: 'default',
      is_domain: false,
    };
    await db.insertInto('project').values(project).execute();
    // A project may share a domain's name; two projects in one domain may not share one.
    await db
      .insertInto('project')
      .values({ ...project, id: 'p2', name: 'Default' })
      .execute();
    await assert.rejects(
      db
        .insertInto('project')
        .values({ ...project, id: 'p3' })
        .execute(),
      (e) => isUniqueViolation(e),
    );

    const user = {
      id: 'u1',
      domain_id: 'default',
      name: 'admin',
      enabled: true,
      default_project_id: null,
      description: null,
      email: null,
      extra: '{}',
      options: '{}',
      created_at: now,
    };
    await db.insertInto('identity_user').values(user).execute();
    await db
      .insertInto('password')
      .values({ user_id: 'u1', hash: 'x', created_at: now, self_service: false })
      .execute();
    await db
      .insertInto('password')
      .values({ user_id: 'u1', hash: 'y', created_at: now, self_service: true })
      .execute();
    const ids = (await db.selectFrom('password').select('id').orderBy('id').execute()).map(
      (r: { id: number }) => r.id,
    );
    assert.equal(ids.length, 2);
    assert.ok(ids[1] > ids[0], 'password ids increase');
    await assert.rejects(
      db
        .insertInto('password')
        .values({ user_id: 'nobody', hash: 'x', created_at: now, self_service: false })
        .execute(),
      (e) => isForeignKeyViolation(e),
    );

    await db
      .insertInto('role')
      .values({
        id: 'r1',
        name: 'admin',
        domain_id: '',
        description: null,
        options: '{}',
        extra: '{}',
      })
      .execute();
    await db
      .insertInto('assignment')
      .values({
        type: 'UserProject',
        actor_id: 'u1',
        target_id: 'p1',
        role_id: 'r1',
        inherited: false,
      })
      .execute();
    await assert.rejects(
      db
        .insertInto('assignment')
        .values({
          type: 'UserProject',
          actor_id: 'u1',
          target_id: 'p1',
          role_id: 'r1',
          inherited: false,
        })
        .execute(),
      (e) => isUniqueViolation(e),
    );
    // Deleting a role removes its assignments.
    await db.deleteFrom('role').where('id', '=', 'r1').execute();
    assert.equal((await db.selectFrom('assignment').selectAll().execute()).length, 0);
  });
});
