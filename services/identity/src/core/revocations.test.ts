import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { migrate, openDatabase } from '@stratus/db';
import { tempDir } from '@stratus/testkit';
import { migrations } from '../migrations/index.js';
import type { IdentitySchema } from '../store/schema.js';
import { RevocationList, type TokenFacts } from './revocations.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const later = new Date('2026-01-01T01:00:00Z');

/** Facts that no event of an earlier test names (they share one database). */
function bystander(over: Partial<TokenFacts> = {}): TokenFacts {
  return {
    userId: 'u-b',
    auditIds: ['a-b'],
    issuedAt: t0,
    projectId: 'p-b',
    domainIds: [],
    roleIds: [],
    ...over,
  };
}

function token(over: Partial<TokenFacts> = {}): TokenFacts {
  return {
    userId: 'u1',
    auditIds: ['a1', 'chain1'],
    issuedAt: t0,
    projectId: 'p1',
    domainIds: ['d1'],
    roleIds: ['r1'],
    ...over,
  };
}

describe('revocation list', async () => {
  const database = await openDatabase<IdentitySchema>({
    service: 'identity',
    dataDir: tempDir(after),
  });
  after(() => database.close());
  await migrate(database, migrations);

  it('matches events on every field they set, and only tokens issued before them', async () => {
    const list = new RevocationList(database.db);
    await list.sync();
    assert.equal(list.isRevoked(token()), false);
    await list.add({ userId: 'u1', projectId: 'p2', issuedBefore: later });
    assert.equal(list.isRevoked(token()), false, 'another project');
    assert.equal(list.isRevoked(token({ projectId: 'p2' })), true);
    assert.equal(
      list.isRevoked(token({ projectId: 'p2', issuedAt: new Date(later.getTime() + 1000) })),
      false,
      'issued after',
    );
    await list.add({ roleId: 'r9', issuedBefore: later });
    assert.equal(list.isRevoked(token()), false);
    assert.equal(list.isRevoked(token({ roleIds: ['r1', 'r9'] })), true);
    await list.add({ auditChainId: 'chain7', issuedBefore: later });
    assert.equal(list.isRevoked(token({ auditIds: ['x', 'chain7'] })), true);
    assert.equal(
      list.isRevoked(token({ auditIds: ['chain7', 'y'] })),
      false,
      'a chain id matches the last audit id only',
    );
    await list.add({ domainId: 'd1', issuedBefore: later });
    assert.equal(list.isRevoked(token()), true);
  });

  it('finds events other processes wrote, and stays exact among 10,000 events', async () => {
    const writer = new RevocationList(database.db);
    const reader = new RevocationList(database.db);
    await reader.sync();
    const rows = Array.from({ length: 10_000 }, (_, i) => ({
      audit_id: `audit-${i}`,
      issued_before: later,
      revoked_at: later,
      expires_at: null,
      user_id: null,
      project_id: null,
      domain_id: null,
      role_id: null,
      audit_chain_id: null,
    }));
    for (let i = 0; i < rows.length; i += 500)
      await database.db
        .insertInto('revocation_event')
        .values(rows.slice(i, i + 500))
        .execute();
    await writer.add({ userId: 'u-late', issuedBefore: later });
    assert.equal(reader.isRevoked(bystander({ userId: 'u-late' })), false, 'not synced yet');
    await reader.sync();
    assert.ok(reader.size >= 10_001);
    assert.equal(reader.isRevoked(bystander({ userId: 'u-late' })), true);
    assert.equal(reader.isRevoked(bystander({ auditIds: ['audit-9999', 'c'] })), true);
    assert.equal(
      reader.isRevoked(
        token({
          userId: 'u-other',
          auditIds: ['audit-x', 'c'],
          domainIds: [],
          projectId: 'p-other',
          roleIds: [],
        }),
      ),
      false,
    );
  });

  it('prunes events whose tokens have all expired', async () => {
    const list = new RevocationList(database.db);
    await list.add({ auditId: 'old', issuedBefore: t0, expiresAt: t0 });
    await list.sync();
    assert.equal(
      list.isRevoked(bystander({ auditIds: ['old'], issuedAt: new Date(t0.getTime() - 1000) })),
      true,
    );
    assert.ok((await list.prune(later)) >= 1);
    assert.equal(
      list.isRevoked(bystander({ auditIds: ['old'], issuedAt: new Date(t0.getTime() - 1000) })),
      false,
    );
  });
});
