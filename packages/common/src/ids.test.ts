import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalUuid, hexId, isUuid, requestId, uuid } from './ids.js';

describe('ids', () => {
  it('makes dashed UUIDs and 32-hex ids', () => {
    assert.match(uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(hexId(), /^[0-9a-f]{32}$/);
    assert.notEqual(hexId(), hexId());
  });

  it('makes request ids in the req-<uuid> form', () => {
    assert.match(requestId(), /^req-[0-9a-f-]{36}$/);
  });

  it('recognises and canonicalises UUIDs with or without dashes', () => {
    assert.ok(isUuid('0F8FAD5B-D9CB-469F-A165-70867728950E'));
    assert.ok(isUuid('0f8fad5bd9cb469fa16570867728950e'));
    assert.ok(!isUuid('0f8fad5b-d9cb-469f-a165-70867728950'));
    assert.ok(!isUuid('not-a-uuid'));
    assert.equal(
      canonicalUuid('0F8FAD5BD9CB469FA16570867728950E'),
      '0f8fad5b-d9cb-469f-a165-70867728950e',
    );
    assert.throws(() => canonicalUuid('nope'), TypeError);
  });
});
