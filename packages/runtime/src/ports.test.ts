import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STANDARD_PORTS, portFor, portMap } from './ports.js';

describe('port map', () => {
  it('uses the standard OpenStack ports', () => {
    assert.equal(portFor('identity'), 5000);
    assert.equal(portFor('compute'), 8774);
    assert.equal(portFor('image'), 9292);
    assert.equal(portFor('network'), 9696);
  });

  it('moves every port by the offset', () => {
    const moved = portMap(100);
    for (const [name, port] of Object.entries(STANDARD_PORTS)) {
      assert.equal(moved[name as keyof typeof STANDARD_PORTS], port + 100, name);
    }
  });

  it('refuses offsets that leave the port range', () => {
    assert.throws(() => portFor('identity', -1), RangeError);
    assert.throws(() => portFor('compute', 60000), /outside/);
  });
});
