/**
 * The only door to process.env in Stratus. Everything else receives configuration
 * values; only this package reads the environment (lint enforces it).
 */

export type Environment = Readonly<Record<string, string | undefined>>;

/** The process environment, for loaders that take an explicit environment. */
export function processEnvironment(): Environment {
  return process.env;
}

/** True when running under CI (CI=true or CI=1): tests may not skip there. */
export function isCI(env: Environment = process.env): boolean {
  const v = env['CI']?.toLowerCase();
  return v === 'true' || v === '1' || v === 'yes';
}

/**
 * Settings that only tests read, from STRATUS_TEST_<NAME>: where the PostgreSQL,
 * MariaDB and RabbitMQ servers for the integration tests are.
 */
export type TestSettingName = 'POSTGRES_URL' | 'MYSQL_URL' | 'AMQP_URL' | 'RABBITMQCTL';

export function testSetting(
  name: TestSettingName,
  env: Environment = process.env,
): string | undefined {
  const v = env[`STRATUS_TEST_${name}`];
  return v === undefined || v === '' ? undefined : v;
}
