import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDatabaseUrl, redactUrl } from './url.js';

describe('parseDatabaseUrl', () => {
  it('defaults to a SQLite file per service in dataDir', () => {
    const t = parseDatabaseUrl(undefined, 'image', '/var/lib/stratus');
    assert.deepEqual(t, {
      dialect: 'sqlite',
      path: '/var/lib/stratus/image.sqlite',
      url: 'sqlite:///var/lib/stratus/image.sqlite',
    });
    assert.equal(parseDatabaseUrl('  ', 'image', '/d').dialect, 'sqlite');
    assert.throws(() => parseDatabaseUrl('', 'image'), /no database url and no dataDir/);
  });

  it('reads SQLite file and memory urls, with {service}', () => {
    assert.deepEqual(parseDatabaseUrl('sqlite:///srv/{service}.db', 'compute'), {
      dialect: 'sqlite',
      path: '/srv/compute.db',
      url: 'sqlite:///srv/compute.db',
    });
    // SQLAlchemy spells absolute paths with four slashes.
    assert.equal(parseDatabaseUrl('sqlite:////srv/x.db', 's').url, 'sqlite:///srv/x.db');
    assert.equal(parseDatabaseUrl('sqlite:///srv/a%20b.db', 's').url, 'sqlite:///srv/a b.db');
    assert.deepEqual(parseDatabaseUrl('sqlite::memory:', 's'), {
      dialect: 'sqlite',
      path: ':memory:',
      url: 'sqlite::memory:',
    });
    assert.throws(() => parseDatabaseUrl('sqlite://relative.db', 's'), /absolute/);
    assert.throws(() => parseDatabaseUrl('sqlite:foo', 's'), /absolute/);
  });

  it('reads PostgreSQL urls and redacts the password', () => {
    const t = parseDatabaseUrl(
      'postgresql://nova:s3cr%40t@db.example:5433/{service}?sslmode=require',
      'compute',
    );
    assert.equal(t.dialect, 'postgres');
    if (t.dialect !== 'postgres') return;
    assert.equal(t.database, 'compute');
    assert.equal(
      t.connectionString,
      'postgresql://nova:s3cr%40t@db.example:5433/compute?sslmode=require',
    );
    assert.equal(t.url, 'postgresql://nova:***@db.example:5433/compute?sslmode=require');
  });

  it('uses the service name when a server url names no database', () => {
    const pg = parseDatabaseUrl('postgres://u:p@h', 'placement');
    assert.equal(pg.dialect === 'postgres' && pg.database, 'placement');
    assert.equal(pg.url, 'postgres://u:***@h/placement');
    const my = parseDatabaseUrl('mysql://u:p@h/', 'placement');
    assert.equal(my.dialect === 'mysql' && my.database, 'placement');
  });

  it('reads OpenStack mysql+pymysql urls', () => {
    const t = parseDatabaseUrl(
      'mysql+pymysql://glance:pa%3Ass@[::1]/glance?charset=utf8&plugin=x&unix_socket=/run/mysqld.sock',
      'image',
    );
    assert.deepEqual(t, {
      dialect: 'mysql',
      database: 'glance',
      host: '::1',
      port: 3306,
      user: 'glance',
      password: 'pa:ss',
      charset: 'utf8',
      socketPath: '/run/mysqld.sock',
      ignoredParams: ['plugin'],
      url: 'mysql+pymysql://glance:***@[::1]/glance?charset=utf8&plugin=x&unix_socket=/run/mysqld.sock',
    });
    const plain = parseDatabaseUrl('mysql://root@127.0.0.1:3307/{service}', 'identity');
    assert.equal(plain.dialect === 'mysql' && plain.port, 3307);
    assert.equal(plain.dialect === 'mysql' && plain.charset, 'utf8mb4');
    assert.equal(plain.url, 'mysql://root@127.0.0.1:3307/identity');
  });

  it('rejects bad urls without printing the password', () => {
    assert.throws(
      () => parseDatabaseUrl('oracle://u:pw@h/x', 's'),
      (err: Error) => {
        assert.match(err.message, /unsupported database url oracle:\/\/u:\*\*\*@h\/x/);
        assert.doesNotMatch(err.message, /pw/);
        return true;
      },
    );
    assert.throws(
      () => parseDatabaseUrl('postgres://u:pw@h:99999/x', 's'),
      (err: Error) => {
        assert.match(err.message, /invalid database url postgres:\/\/u:\*\*\*@h:99999\/x/);
        return true;
      },
    );
    assert.throws(() => parseDatabaseUrl('postgres:///x', 's'), /no host/);
    assert.throws(() => parseDatabaseUrl('mysql://h/a/b', 's'), /not a database name/);
    assert.throws(() => parseDatabaseUrl('not a url', 's'), /unsupported database url/);
  });

  it('rejects service names unfit for files and databases', () => {
    assert.throws(() => parseDatabaseUrl(undefined, '../etc', '/d'), /invalid service name/);
    assert.throws(() => parseDatabaseUrl(undefined, 'Image', '/d'), /invalid service name/);
  });
});

describe('redactUrl', () => {
  it('hides passwords in user info and parameters', () => {
    assert.equal(redactUrl('postgres://u:p@h/d'), 'postgres://u:***@h/d');
    assert.equal(
      redactUrl('postgres://h/d?user=u&password=p'),
      'postgres://h/d?user=u&password=***',
    );
    assert.equal(redactUrl('mysql://u@h/d'), 'mysql://u@h/d');
    assert.equal(redactUrl('sqlite:///tmp/x.db'), 'sqlite:///tmp/x.db');
  });

  it('hides passwords even in urls it cannot parse', () => {
    assert.equal(redactUrl('postgres://u:p@h:99999/d'), 'postgres://u:***@h:99999/d');
  });
});
