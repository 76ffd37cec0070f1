import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RouteTable } from './route-table.js';

describe('RouteTable', () => {
  it('matches find-my-way patterns and gathers the methods of every match', () => {
    const t = new RouteTable();
    t.add('/v2.1/servers/:id', ['GET', 'HEAD']);
    t.add('/v2.1/servers/:id', 'DELETE');
    t.add('/v2.1/servers/detail', 'GET');
    t.add('/v2/images/:id(^[0-9a-f-]+$)/file', 'PUT');
    t.add('/v1/:account/*', 'POST');
    t.add('/v3/OS-FEDERATION::saml2', 'POST');
    assert.deepEqual(t.allowedMethods('/v2.1/servers/abc'), ['DELETE', 'GET', 'HEAD']);
    assert.deepEqual(t.allowedMethods('/v2.1/servers/detail/'), ['DELETE', 'GET', 'HEAD']);
    assert.deepEqual(t.allowedMethods('/v2.1/servers/abc/action'), []);
    assert.deepEqual(t.allowedMethods('/v2/images/0a-1b/file'), ['PUT']);
    assert.deepEqual(t.allowedMethods('/v2/images/xyz/file'), []);
    assert.deepEqual(t.allowedMethods('/v1/AUTH_x/c/o/deep'), ['POST']);
    assert.deepEqual(t.allowedMethods('/v3/OS-FEDERATION:saml2'), ['POST']);
    assert.deepEqual(t.allowedMethods('/v2.1Xservers/abc'), [], 'dots are literal');
  });
});
