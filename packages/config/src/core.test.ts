import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coreSection, defaultDataDir, logSection } from './core.js';
import { ConfigError, loadConfig } from './load.js';

const load = (env: Record<string, string>) =>
  loadConfig({
    sections: [coreSection, logSection],
    env,
    defaultFile: '/nonexistent/stratus.yaml',
  });

describe('core and log sections', () => {
  it('default to a local, single-node cloud', () => {
    assert.deepEqual(load({}), {
      core: {
        data_dir: '',
        bind_host: '127.0.0.1',
        public_host: '',
        port_offset: 0,
        region: 'RegionOne',
        host: '',
      },
      log: { level: 'info', format: 'json', file: '' },
    });
  });

  it('take environment overrides', () => {
    const config = load({
      STRATUS_CORE__PORT_OFFSET: '100',
      STRATUS_CORE__PUBLIC_HOST: 'cloud.example.com',
      STRATUS_LOG__LEVEL: 'debug',
      STRATUS_LOG__FORMAT: 'pretty',
    });
    assert.equal(config.core.port_offset, 100);
    assert.equal(config.core.public_host, 'cloud.example.com');
    assert.equal(config.log.level, 'debug');
    assert.equal(config.log.format, 'pretty');
  });

  it('reject a negative port offset, an empty region and an unknown level', () => {
    assert.throws(
      () =>
        load({
          STRATUS_CORE__PORT_OFFSET: '-1',
          STRATUS_CORE__REGION: '',
          STRATUS_LOG__LEVEL: 'verbose',
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const lines = err.message.split('\n');
        assert.equal(lines.length, 3);
        assert.match(lines[0] ?? '', /^config: core\.port_offset must be >= 0, got "-1"/);
        assert.match(
          lines[1] ?? '',
          /^config: core\.region .*got "" \(from STRATUS_CORE__REGION\)/,
        );
        assert.match(lines[2] ?? '', /^config: log\.level must be one of trace, debug, info/);
        return true;
      },
    );
  });
});

describe('defaultDataDir', () => {
  it('is under the home directory for users and /var/lib for root', () => {
    assert.equal(defaultDataDir(1000, '/home/ann'), '/home/ann/.local/share/stratus');
    assert.equal(defaultDataDir(0, '/root'), '/var/lib/stratus');
  });
});
