import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Type from 'typebox';
import { coreSection, logSection } from './core.js';
import type { Environment } from './env.js';
import { ConfigError, loadConfig, resolveConfigFile, type LoadOptions } from './load.js';
import { defineSection } from './section.js';

const database = defineSection(
  'database',
  Type.Object({
    url: Type.String({ default: '', description: 'Where the databases live.' }),
    pool_max: Type.Integer({ minimum: 1, default: 10, description: 'Connections per pool.' }),
    timeout: Type.Number({ default: 2.5, description: 'Seconds.' }),
    debug: Type.Boolean({ default: false, description: 'Log every query.' }),
  }),
);
const bus = defineSection(
  'bus',
  Type.Object({
    transport: Type.Enum(['memory', 'amqp'], { default: 'memory', description: 'Driver.' }),
    mode: Type.Union([Type.Literal('fast'), Type.Literal('safe')], {
      default: 'safe',
      description: 'Delivery.',
    }),
    hosts: Type.Array(Type.String(), { default: ['localhost'], description: 'Brokers.' }),
    ports: Type.Array(Type.Integer(), { default: [], description: 'Broker ports.' }),
  }),
);
const sections = [database, bus] as const;
const DEFAULTS = {
  database: { url: '', pool_max: 10, timeout: 2.5, debug: false },
  bus: { transport: 'memory', mode: 'safe', hosts: ['localhost'], ports: [] },
};

const dir = mkdtempSync(join(tmpdir(), 'stratus-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ABSENT = join(dir, 'absent.yaml');
let files = 0;

function yamlFile(text: string): string {
  const path = join(dir, `config-${files++}.yaml`);
  writeFileSync(path, text);
  return path;
}

function load(options: Partial<LoadOptions<typeof sections>> = {}) {
  return loadConfig({ sections, env: {}, defaultFile: ABSENT, ...options });
}

/** The problems of the ConfigError that `fn` must throw; checks the message lists them. */
function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    const list = err.details?.['problems'] as string[];
    assert.equal(err.message, list.join('\n'));
    return list;
  }
  assert.fail('expected a ConfigError');
}

function loadEnv(env: Environment) {
  return load({ env });
}

describe('loadConfig', () => {
  it('returns every default with no file and no environment', () => {
    assert.deepEqual(load(), DEFAULTS);
  });

  it('returns a deeply frozen object', () => {
    const config = load();
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.database));
    assert.ok(Object.isFrozen(config.bus.hosts));
    // Defaults are copied, so freezing a result leaves the schema's default untouched.
    assert.ok(!Object.isFrozen(Reflect.get(bus.schema.properties.hosts, 'default')));
  });

  it('types the result by section name', () => {
    const config = loadConfig({
      sections: [coreSection, logSection],
      env: {},
      defaultFile: ABSENT,
    });
    const offset: number = config.core.port_offset;
    const level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' =
      config.log.level;
    assert.equal(offset, 0);
    assert.equal(level, 'info');
    // @ts-expect-error: no such section
    assert.equal(config.nope, undefined);
    assert.throws(() => {
      // @ts-expect-error: the configuration is read-only
      config.core.region = 'elsewhere';
    }, TypeError);
  });

  it('layers defaults < file < environment < overrides', () => {
    const file = yamlFile(`database:
  url: postgres://file
  pool_max: 20
  timeout: 5
bus:
  hosts: [a, b]
`);
    const config = load({
      file,
      env: { STRATUS_DATABASE__POOL_MAX: '30', STRATUS_DATABASE__TIMEOUT: '7.5' },
      overrides: { database: { timeout: 9, debug: undefined } },
    });
    assert.deepEqual(config, {
      database: { url: 'postgres://file', pool_max: 30, timeout: 9, debug: false },
      bus: { ...DEFAULTS.bus, hosts: ['a', 'b'] },
    });
  });

  it('treats empty sections and empty keys in the file as defaults', () => {
    const file = yamlFile('database:\nbus:\n  transport:\n');
    assert.deepEqual(load({ file }), DEFAULTS);
    assert.deepEqual(load({ file: yamlFile('') }), DEFAULTS);
    assert.deepEqual(load({ file: yamlFile('# only comments\n') }), DEFAULTS);
  });

  it('rejects values of the wrong type in the file, naming the file', () => {
    const file = yamlFile('database:\n  pool_max: ten\n  debug: "yes"\n');
    assert.deepEqual(
      problems(() => load({ file })),
      [
        `config: database.pool_max must be an integer, got "ten" (from ${file})`,
        `config: database.debug must be a boolean, got "yes" (from ${file})`,
      ],
    );
  });

  it('rejects values that break a constraint', () => {
    assert.deepEqual(
      problems(() => loadEnv({ STRATUS_DATABASE__POOL_MAX: '0' })),
      ['config: database.pool_max must be >= 1, got "0" (from STRATUS_DATABASE__POOL_MAX)'],
    );
  });

  it('rejects unknown sections and keys, suggesting near names', () => {
    const file = yamlFile(
      'databse:\n  url: x\ndatabase:\n  poolmax: 3\n  constructor: 1\nzzz_unrelated:\n',
    );
    assert.deepEqual(
      problems(() => load({ file })),
      [
        `config: unknown section databse; did you mean database? (from ${file})`,
        `config: unknown key database.poolmax; did you mean pool_max? (from ${file})`,
        `config: unknown key database.constructor (from ${file})`,
        `config: unknown section zzz_unrelated (from ${file})`,
      ],
    );
    assert.deepEqual(
      problems(() => loadEnv({ STRATUS_BUS__TRANSPORTS: 'amqp', STRATUS_BOS__HOSTS: 'a' })),
      [
        'config: unknown key bus.transports; did you mean transport? (from STRATUS_BUS__TRANSPORTS)',
        'config: unknown section bos; did you mean bus? (from STRATUS_BOS__HOSTS)',
      ],
    );
  });

  it('rejects a file that is not a mapping of mappings', () => {
    const list = yamlFile('- database\n');
    assert.deepEqual(
      problems(() => load({ file: list })),
      [`config: ${list} must be a mapping of sections`],
    );
    const scalar = yamlFile('database: 5\n');
    assert.deepEqual(
      problems(() => load({ file: scalar })),
      [`config: section database must be a mapping of keys (from ${scalar})`],
    );
    const broken = yamlFile('database:\n  url: [unclosed\n');
    const [problem] = problems(() => load({ file: broken }));
    assert.match(problem ?? '', new RegExp(`^config: cannot read ${broken}: `));
  });

  it('reports every problem from every source in one error', () => {
    const file = yamlFile('database:\n  pool_max: many\nbus:\n  hostz: [a]\n');
    const list = problems(() =>
      load({
        file,
        env: { STRATUS_DATABASE__DEBUG: 'maybe' },
        overrides: { bus: { transport: 'pigeon' as 'amqp' } },
      }),
    );
    assert.deepEqual(list, [
      `config: database.pool_max must be an integer, got "many" (from ${file})`,
      `config: unknown key bus.hostz; did you mean hosts? (from ${file})`,
      'config: database.debug must be a boolean, got "maybe" (from STRATUS_DATABASE__DEBUG)',
      'config: bus.transport must be one of memory, amqp, got "pigeon" (from overrides)',
    ]);
  });

  it('ignores STRATUS_ variables without a double underscore', () => {
    const env = {
      STRATUS_TEST_POSTGRES_URL: 'postgres://x',
      STRATUS_DATABASE_URL: 'ignored',
      HOME: '/root',
    };
    assert.deepEqual(loadEnv(env), DEFAULTS);
  });

  it('refuses to load the same section twice', () => {
    assert.throws(
      () => loadConfig({ sections: [database, database], env: {}, defaultFile: ABSENT }),
      /defined twice/,
    );
  });
});

describe('environment coercion', () => {
  const value = (name: string, raw: string): unknown => {
    const [section, key] = name.split('.') as [string, string];
    const config = loadEnv({ [`STRATUS_${section.toUpperCase()}__${key.toUpperCase()}`]: raw });
    return (config as unknown as Record<string, Record<string, unknown>>)[section]?.[key];
  };
  const problem = (name: string, raw: string): string => {
    const [section, key] = name.split('.') as [string, string];
    const variable = `STRATUS_${section.toUpperCase()}__${key.toUpperCase()}`;
    const list = problems(() => loadEnv({ [variable]: raw }));
    assert.equal(list.length, 1);
    return list[0]!;
  };

  it('reads integers', () => {
    assert.equal(value('database.pool_max', '42'), 42);
    assert.equal(value('database.pool_max', ' +7 '), 7);
    assert.equal(
      problem('database.pool_max', 'ten'),
      'config: database.pool_max must be an integer, got "ten" (from STRATUS_DATABASE__POOL_MAX)',
    );
    assert.match(problem('database.pool_max', '2.5'), /must be an integer, got "2.5"/);
    assert.match(problem('database.pool_max', ''), /must be an integer, got ""/);
  });

  it('reads numbers', () => {
    assert.equal(value('database.timeout', '0.25'), 0.25);
    assert.equal(value('database.timeout', '3'), 3);
    assert.match(problem('database.timeout', 'soon'), /database.timeout must be a number/);
    assert.match(problem('database.timeout', ''), /must be a number, got ""/);
  });

  it('reads booleans in every usual spelling', () => {
    for (const raw of ['true', 'TRUE', '1', 'yes', 'on', 'On']) {
      assert.equal(value('database.debug', raw), true, raw);
    }
    for (const raw of ['false', 'False', '0', 'no', 'off']) {
      assert.equal(value('database.debug', raw), false, raw);
    }
    assert.match(problem('database.debug', 'maybe'), /database.debug must be a boolean/);
  });

  it('keeps strings as they are', () => {
    assert.equal(
      value('database.url', ' postgres://u:p@h/db?x=1,2 '),
      ' postgres://u:p@h/db?x=1,2 ',
    );
    assert.equal(value('database.url', ''), '');
  });

  it('reads enums and literal unions', () => {
    assert.equal(value('bus.transport', 'amqp'), 'amqp');
    assert.equal(value('bus.mode', 'fast'), 'fast');
    assert.equal(
      problem('bus.transport', 'AMQP'),
      'config: bus.transport must be one of memory, amqp, got "AMQP" (from STRATUS_BUS__TRANSPORT)',
    );
    assert.match(problem('bus.mode', 'slow'), /bus.mode must be one of fast, safe, got "slow"/);
  });

  it('reads lists as comma-separated values or JSON', () => {
    assert.deepEqual(value('bus.hosts', 'a, b ,c'), ['a', 'b', 'c']);
    assert.deepEqual(value('bus.hosts', '["a,1", "b"]'), ['a,1', 'b']);
    assert.deepEqual(value('bus.hosts', ''), []);
    assert.deepEqual(value('bus.ports', '5672,5673'), [5672, 5673]);
    assert.deepEqual(value('bus.ports', '[5672]'), [5672]);
    assert.match(
      problem('bus.ports', '5672,x'),
      /bus.ports must be a list of integer, got "5672,x"/,
    );
    assert.match(problem('bus.hosts', '[broken'), /bus.hosts must be a list of string/);
  });
});

describe('config file resolution', () => {
  const explicit = yamlFile('database:\n  url: explicit\n');
  const fromEnv = yamlFile('database:\n  url: env\n');
  const fallback = yamlFile('database:\n  url: default\n');
  const url = (options: Partial<LoadOptions<typeof sections>>) => load(options).database.url;

  it('prefers --config, then STRATUS_CONFIG, then the default file', () => {
    const env = { STRATUS_CONFIG: fromEnv };
    assert.equal(url({ file: explicit, env, defaultFile: fallback }), 'explicit');
    assert.equal(url({ env, defaultFile: fallback }), 'env');
    assert.equal(url({ defaultFile: fallback }), 'default');
    assert.equal(url({}), '');
    assert.deepEqual(resolveConfigFile({ env, defaultFile: fallback }), {
      path: fromEnv,
      source: 'STRATUS_CONFIG',
    });
    assert.deepEqual(resolveConfigFile({ env: {}, defaultFile: fallback }), {
      path: fallback,
      source: 'default',
    });
    assert.equal(resolveConfigFile({ env: {}, defaultFile: ABSENT }), undefined);
  });

  it('fails when an explicitly chosen file is missing', () => {
    const missing = join(dir, 'missing.yaml');
    assert.deepEqual(
      problems(() => load({ file: missing, defaultFile: fallback })),
      [`config: file ${missing} does not exist (from --config)`],
    );
    assert.deepEqual(
      problems(() => load({ env: { STRATUS_CONFIG: missing } })),
      [`config: file ${missing} does not exist (from STRATUS_CONFIG)`],
    );
  });

  it('still reports environment problems when the file is missing', () => {
    const missing = join(dir, 'missing.yaml');
    const list = problems(() =>
      load({ env: { STRATUS_CONFIG: missing, STRATUS_DATABASE__POOL_MAX: 'x' } }),
    );
    assert.equal(list.length, 2);
  });
});

describe('defineSection', () => {
  const described = { description: 'd' };

  it('rejects names that are not snake_case', () => {
    assert.throws(() => defineSection('Database', Type.Object({})), /snake_case/);
    assert.throws(() => defineSection('a__b', Type.Object({})), /snake_case/);
    const camel = Type.Object({ poolMax: Type.Integer({ default: 1, ...described }) });
    assert.throws(() => defineSection('database', camel), /database\.poolMax must be snake_case/);
  });

  it('requires a description and a valid default on every key', () => {
    assert.throws(
      () => defineSection('s', Type.Object({ k: Type.Integer({ default: 1 }) })),
      /s\.k needs a description/,
    );
    assert.throws(
      () => defineSection('s', Type.Object({ k: Type.Integer(described) })),
      /s\.k needs a default/,
    );
    assert.throws(
      () => defineSection('s', Type.Object({ k: Type.Integer({ default: 'x', ...described }) })),
      /s\.k has an invalid default/,
    );
  });
});
