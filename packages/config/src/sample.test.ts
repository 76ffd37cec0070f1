import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Type from 'typebox';
import { coreSection, logSection } from './core.js';
import { loadConfig } from './load.js';
import { redactConfig, renderSample } from './sample.js';
import { defineSection } from './section.js';

const demo = defineSection(
  'demo_section',
  Type.Object(
    {
      name: Type.String({
        default: 'a "quoted" # not a comment: really\nsecond line',
        description: 'First paragraph.\nSecond paragraph.',
      }),
      count: Type.Integer({ minimum: 1, maximum: 10, default: 3, description: 'How many.' }),
      ratio: Type.Number({ default: 0.5, description: 'A fraction.' }),
      enabled: Type.Boolean({ default: true, description: 'On or off.' }),
      mode: Type.Union([Type.Literal('fast'), Type.Literal('safe')], {
        default: 'safe',
        description: 'Speed. '.repeat(30).trim(),
      }),
      tags: Type.Array(Type.String(), { default: ['a', 'b c'], description: 'Labels.' }),
      ports: Type.Array(Type.Integer(), { default: [], description: 'Ports.' }),
      password: Type.String({ default: '', secret: true, description: 'Unset by default.' }),
      token: Type.String({ default: 'built-in-token', secret: true, description: 'A token.' }),
    },
    { description: 'A section exercising every kind of key.' },
  ),
);
const sections = [coreSection, logSection, demo] as const;
const sample = renderSample(sections);

const dir = mkdtempSync(join(tmpdir(), 'stratus-sample-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function loadText(text: string) {
  const file = join(dir, `sample-${files++}.yaml`);
  writeFileSync(file, text);
  return loadConfig({ sections, file, env: {}, defaultFile: join(dir, 'absent.yaml') });
}

const defaults = loadConfig({ sections, env: {}, defaultFile: join(dir, 'absent.yaml') });

describe('renderSample', () => {
  it('documents every key with its description, type, env var and default', () => {
    assert.match(sample, /^# Stratus configuration/);
    assert.ok(
      sample.includes(`# A section exercising every kind of key.
demo_section:
  # First paragraph.
  # Second paragraph.
  # type: string; env: STRATUS_DEMO_SECTION__NAME
  # name: "a \\"quoted\\" # not a comment: really\\nsecond line"
`),
      sample,
    );
    assert.ok(sample.includes('  # type: integer >= 1 <= 10; env: STRATUS_DEMO_SECTION__COUNT\n'));
    assert.ok(sample.includes('  # type: fast | safe; env: STRATUS_DEMO_SECTION__MODE\n'));
    assert.ok(sample.includes('  # type: list of string; env: STRATUS_DEMO_SECTION__TAGS\n'));
    assert.ok(sample.includes('  # tags: [ "a", "b c" ]\n'));
    assert.ok(sample.includes('  # ports: []\n'));
    assert.ok(sample.includes('  # level: "info"\n'));
    assert.ok(sample.includes('  # type: trace | debug | info | warn | error | fatal | silent;'));
  });

  it('wraps long descriptions', () => {
    for (const line of sample.split('\n')) {
      if (!line.includes('env: STRATUS_')) assert.ok(line.length <= 88, line);
    }
  });

  it('shows no default for secrets', () => {
    assert.ok(sample.includes('  # password:\n'));
    assert.ok(sample.includes('  # token:\n'));
    assert.ok(!sample.includes('built-in-token'));
  });

  it('parses to exactly the defaults', () => {
    assert.deepEqual(loadText(sample), defaults);
  });

  it('still parses to the defaults with any one key uncommented', () => {
    const lines = sample.split('\n');
    let uncommented = 0;
    lines.forEach((line, i) => {
      if (!lines[i - 1]?.startsWith('  # type: ')) return;
      const edited = lines.with(i, line.replace('  # ', '  '));
      assert.deepEqual(loadText(edited.join('\n')), defaults, line);
      uncommented++;
    });
    const keys = sections.reduce((n, s) => n + Object.keys(s.schema.properties).length, 0);
    assert.equal(uncommented, keys);
  });

  it('takes an uncommented and edited key', () => {
    const edited = sample
      .replace('  # port_offset: 0', '  port_offset: 100')
      .replace('  # password:', '  password: hunter2');
    const config = loadText(edited);
    assert.equal(config.core.port_offset, 100);
    assert.equal(config.demo_section.password, 'hunter2');
  });
});

describe('redactConfig', () => {
  it('hides secrets that are set and leaves everything else alone', () => {
    const config = loadConfig({
      sections,
      env: { STRATUS_DEMO_SECTION__TOKEN: 's3cret', STRATUS_LOG__LEVEL: 'debug' },
      defaultFile: join(dir, 'absent.yaml'),
    });
    const redacted = redactConfig(config, sections);
    assert.equal(redacted.demo_section.token, '***');
    // Unset secrets stay empty, so a log shows that they are missing.
    assert.equal(redacted.demo_section.password, '');
    assert.equal(redacted.log.level, 'debug');
    assert.deepEqual(redacted.demo_section.tags, ['a', 'b c']);
    assert.equal(config.demo_section.token, 's3cret');
    assert.ok(!JSON.stringify(redacted).includes('s3cret'));
  });
});
