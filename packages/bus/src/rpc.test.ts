import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineRpcApi, rpcClient } from './rpc.js';
import { createTransport } from './transport.js';
import type { TransportKind } from './transport.js';
import { compareVersions, isCompatible, parseVersion } from './version.js';

interface PingRpc {
  ping(args: { verbose?: boolean }): Promise<string>;
  pong(args: Record<string, never>): Promise<string>;
}

describe('RPC versions', () => {
  it('parses major.minor and nothing else', () => {
    assert.deepEqual(parseVersion('1.12'), { major: 1, minor: 12 });
    assert.equal(parseVersion('1'), undefined);
    assert.equal(parseVersion('1.2.3'), undefined);
    assert.equal(parseVersion('v1.2'), undefined);
  });

  it('compares numerically, not as text', () => {
    assert.ok(compareVersions('1.10', '1.9') > 0);
    assert.ok(compareVersions('2.0', '1.99') > 0);
    assert.equal(compareVersions('1.2', '1.2'), 0);
    assert.throws(() => compareVersions('1', '1.0'), /not an RPC API version/);
  });

  it('is compatible within a major, up to the supported minor', () => {
    assert.equal(isCompatible('1.2', '1.0'), true);
    assert.equal(isCompatible('1.2', '1.2'), true);
    assert.equal(isCompatible('1.2', '1.3'), false);
    assert.equal(isCompatible('2.0', '1.0'), false);
    assert.equal(isCompatible('1.2', 'garbage'), false);
  });
});

describe('defineRpcApi', () => {
  const define = (version: string, ping: string, verbose: string, pong = '1.0') =>
    defineRpcApi<PingRpc>({
      topic: 'test.ping',
      version,
      methods: { ping: { since: ping, args: { verbose } }, pong: { since: pong } },
    });

  it('accepts a consistent history', () => {
    const api = define('1.3', '1.0', '1.3', '1.1');
    assert.equal(api.version, '1.3');
    assert.ok(Object.isFrozen(api));
  });

  it('refuses versions newer than the API, of another major, or older than their method', () => {
    assert.throws(() => define('1.x', '1.0', '1.0'), /invalid RPC API version 1\.x/);
    assert.throws(() => define('1.2', '1.3', '1.3'), /ping has version 1\.3, outside 1\.0\.\.1\.2/);
    assert.throws(() => define('2.0', '1.0', '2.0'), /ping has version 1\.0, outside 2\.0\.\.2\.0/);
    assert.throws(() => define('1.2', '1.1', '1.0'), /ping\(verbose\) has version 1\.0/);
  });

  it('refuses an invalid version cap', () => {
    const transport = createTransport();
    assert.throws(
      () => rpcClient(transport, define('1.0', '1.0', '1.0'), { versionCap: 'latest' }),
      /invalid RPC version cap latest/,
    );
    return transport.close();
  });
});

describe('createTransport', () => {
  it('refuses an unknown transport or a bad exchange name', () => {
    assert.throws(
      () => createTransport({ transport: 'kafka' as TransportKind }),
      /unknown bus transport kafka: use memory or amqp/,
    );
    assert.throws(() => createTransport({ exchange: 'a b' }), /invalid bus exchange name/);
  });

  it('is the in-process bus by default', async () => {
    const transport = createTransport();
    assert.equal(transport.kind, 'memory');
    assert.equal(transport.exchange, 'stratus');
    await transport.close();
  });
});
