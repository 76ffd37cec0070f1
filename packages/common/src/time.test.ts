import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoMicros, isoMicrosNaive, isoSeconds, parseTimestamp } from './time.js';

const d = new Date(Date.UTC(2026, 0, 5, 7, 8, 9, 45));

describe('timestamps', () => {
  it('formats the three OpenStack forms', () => {
    assert.equal(isoSeconds(d), '2026-01-05T07:08:09Z');
    assert.equal(isoMicros(d), '2026-01-05T07:08:09.045000Z');
    assert.equal(isoMicrosNaive(d), '2026-01-05T07:08:09.045000');
  });

  it('parses what clients send', () => {
    assert.equal(parseTimestamp('2026-01-05T07:08:09Z')?.getTime(), Date.UTC(2026, 0, 5, 7, 8, 9));
    assert.equal(parseTimestamp('2026-01-05T07:08:09.045000Z')?.getTime(), d.getTime());
    assert.equal(parseTimestamp('2026-01-05T07:08:09.045')?.getTime(), d.getTime());
    assert.equal(parseTimestamp('2026-01-05 07:08')?.getTime(), Date.UTC(2026, 0, 5, 7, 8));
    assert.equal(
      parseTimestamp('2026-01-05T09:08:09+02:00')?.getTime(),
      Date.UTC(2026, 0, 5, 7, 8, 9),
    );
    assert.equal(
      parseTimestamp('2026-01-05T02:38:09-0430')?.getTime(),
      Date.UTC(2026, 0, 5, 7, 8, 9),
    );
  });

  it('rejects nonsense and impossible dates', () => {
    assert.equal(parseTimestamp('yesterday'), undefined);
    assert.equal(parseTimestamp('2026-02-31T00:00:00Z'), undefined);
    assert.equal(parseTimestamp('2026-13-01T00:00:00Z'), undefined);
  });
});
