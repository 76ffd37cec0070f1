// Unit tests of the conformance harness's pure parts: no tempest, no cloud. The subunit
// streams are built here, packet by packet.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCapabilities } from './lib/capabilities.mjs';
import { defaultCloudDir, parseCloudsYaml } from './lib/cloud.mjs';
import {
  exclusionFor,
  loadExclusions,
  parseExclusions,
  renderExcludeList,
} from './lib/exclusions.mjs';
import { buildResults, failureReason, summarize, summaryLine, topReasons } from './lib/results.mjs';
import { SERVICE_NAMES, selectionRegex, serviceOf } from './lib/services.mjs';
import { encodePacket, parseSubunit, SubunitParser } from './lib/subunit.mjs';
import { ensureTempest, INSTALL_COMMAND, parseTestList } from './lib/tempest.mjs';
import { buildTempestConf, confProblems, parseIni, renderIni } from './lib/tempest-conf.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));

// ---------------------------------------------------------------------------------------
// Exclusion lists

describe('exclusion lists', () => {
  it('reads a regex or a test id per line, each with its reason', () => {
    const entries = parseExclusions(
      [
        '# a comment',
        '',
        'tempest\\.api\\.identity\\.admin\\.v3\\.test_trusts  # trusts are not built yet',
        '   tempest.api.identity.v3.test_users.IdentityV3UsersTest.test_user_account_lockout[id-a7ad8bbf-2cff-4520-8c1d-96332e151658]   #  needs security compliance  ',
      ].join('\n'),
      'exclude/identity.txt',
    );
    assert.equal(entries.length, 2);
    assert.equal(entries[0].reason, 'trusts are not built yet');
    assert.equal(entries[0].where, 'exclude/identity.txt:3');
    assert.equal(entries[0].literal, false);
    assert.equal(entries[1].reason, 'needs security compliance');
    assert.equal(entries[1].literal, true);
    // A full test id is matched literally: its [id-…,smoke] is not a character class.
    assert.equal(
      entries[1].regex,
      '^tempest\\.api\\.identity\\.v3\\.test_users\\.IdentityV3UsersTest\\.test_user_account_lockout\\[id-a7ad8bbf-2cff-4520-8c1d-96332e151658\\]$',
    );
    const lockout =
      'tempest.api.identity.v3.test_users.IdentityV3UsersTest.test_user_account_lockout[id-a7ad8bbf-2cff-4520-8c1d-96332e151658]';
    assert.equal(exclusionFor(entries, lockout), entries[1]);
    assert.equal(
      exclusionFor(
        entries,
        'tempest.api.identity.admin.v3.test_trusts.TrustsV3TestJSON.test_trust_expire[id-0ed14b66]',
      ),
      entries[0],
    );
    assert.equal(
      exclusionFor(entries, 'tempest.api.identity.v3.test_users.X.test_other[id-1]'),
      undefined,
    );
    // What tempest gets: stestr's own `regex # comment` lines.
    assert.match(
      renderExcludeList(entries),
      /^tempest\\\.api.*test_trusts {2}# trusts are not built yet/m,
    );
  });

  it('refuses an entry without a reason, naming every bad line', () => {
    assert.throws(
      () =>
        parseExclusions(
          'tempest\\.api\\.identity\\.v3\\.test_tokens\nok\\.one  # fine\nother  #   \n',
          'exclude/identity.txt',
        ),
      (err) => {
        assert.match(
          err.message,
          /exclude\/identity\.txt:1: 'tempest\\\.api\\\.identity\\\.v3\\\.test_tokens' has no reason/,
        );
        assert.match(err.message, /exclude\/identity\.txt:3: 'other' has no reason/);
        assert.doesNotMatch(err.message, /:2:/);
        return true;
      },
    );
  });

  it('refuses a pattern that is not a regex', () => {
    assert.throws(
      () => parseExclusions('tempest(\\.api  # broken\n', 'x.txt'),
      /x\.txt:1: .*not a valid regex/,
    );
  });

  it('treats a missing file as an empty list and reads the ones that exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'conformance-test-'));
    try {
      writeFileSync(join(dir, 'identity.txt'), '# none yet\nfoo  # bar\n');
      const entries = loadExclusions(dir, ['identity', 'compute'], dir);
      assert.deepEqual(
        entries.map((e) => [e.service, e.pattern, e.reason, e.where]),
        [['identity', 'foo', 'bar', 'identity.txt:2']],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every exclusion file in the repository is valid', () => {
    assert.doesNotThrow(() => loadExclusions(join(HERE, 'exclude'), SERVICE_NAMES));
  });
});

// ---------------------------------------------------------------------------------------
// tempest.conf

// What `stratus up` writes (apps/cli/src/credentials.ts), with a password that needs care.
const CLOUDS_YAML = `clouds:
  stratus:
    auth:
      auth_url: http://127.0.0.1:5300/v3
      username: admin
      password: pa$$word-1
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
`;

const CAPABILITIES = `services:
  identity: { available: true }
  compute: { available: false, image_ref: img-1, flavor_ref: '42' }
  image: { available: true }
  network: { available: false }
  volume: { available: false }
  object_storage: { available: false }
  dashboard: { available: false }
identity_features:
  api_v3: true
  api_v2: false
  trust: false
  api_extensions: []
tempest_conf:
  service-clients: { http_timeout: 30 }
`;

describe('tempest.conf generation', () => {
  const cloud = parseCloudsYaml(CLOUDS_YAML);

  it('reads the admin credentials of clouds.yaml', () => {
    assert.deepEqual(cloud, {
      authUrl: 'http://127.0.0.1:5300/v3',
      uriV3: 'http://127.0.0.1:5300/v3',
      username: 'admin',
      password: 'pa$$word-1',
      projectName: 'admin',
      userDomainName: 'Default',
      projectDomainName: 'Default',
      region: 'RegionOne',
      interface: 'public',
    });
    assert.equal(
      parseCloudsYaml(CLOUDS_YAML.replace('/v3', '/')).uriV3,
      'http://127.0.0.1:5300/v3',
    );
    assert.throws(
      () => parseCloudsYaml(CLOUDS_YAML, 'other'),
      /no cloud named 'other' \(it has: stratus\)/,
    );
    assert.throws(
      () => parseCloudsYaml(CLOUDS_YAML.replace(/ {6}password.*\n/, '')),
      /lacks auth\.password/,
    );
  });

  it('finds the cloud where stratus up keeps it', () => {
    assert.equal(defaultCloudDir(0, '/root'), '/var/lib/stratus');
    assert.equal(defaultCloudDir(1000, '/home/u'), '/home/u/.local/share/stratus');
  });

  it('writes the settings Tempest needs to reach the cloud', () => {
    const caps = parseCapabilities(CAPABILITIES);
    const conf = buildTempestConf({ cloud, capabilities: caps });
    assert.deepEqual(conf.auth, {
      use_dynamic_credentials: true,
      create_isolated_networks: false,
      admin_username: 'admin',
      admin_password: 'pa$$word-1',
      admin_project_name: 'admin',
      admin_domain_name: 'Default',
      admin_user_domain_name: 'Default',
      admin_project_domain_name: 'Default',
    });
    assert.equal(conf.identity.uri_v3, 'http://127.0.0.1:5300/v3');
    assert.equal(conf.identity.auth_version, 'v3');
    assert.equal(conf.identity.v3_endpoint_type, 'public');
    assert.equal(conf.identity.region, 'RegionOne');
    assert.deepEqual(conf['identity-feature-enabled'], {
      api_v3: true,
      api_v2: false,
      trust: false,
      api_extensions: [],
    });
    // Every flag explicit: Tempest would otherwise assume nova, cinder, swift, horizon.
    assert.deepEqual(conf.service_available, {
      nova: false,
      glance: true,
      neutron: false,
      cinder: false,
      swift: false,
      horizon: false,
    });
    assert.equal(conf.validation.run_validation, false);
    assert.equal(conf.compute, undefined, 'no image/flavor while compute is unavailable');
    assert.equal(conf['service-clients'].http_timeout, 30);
  });

  it('sets the compute image and flavor once compute is available', () => {
    const caps = parseCapabilities(
      CAPABILITIES.replace('compute: { available: false', 'compute: { available: true'),
    );
    const conf = buildTempestConf({ cloud, capabilities: caps, flavorRef: '7' });
    assert.deepEqual(conf.compute, {
      image_ref: 'img-1',
      image_ref_alt: 'img-1',
      flavor_ref: '7',
      flavor_ref_alt: '7',
    });
    assert.equal(conf.service_available.nova, true);
    assert.deepEqual(confProblems(conf, caps, ['compute']), []);
    const bare = parseCapabilities(
      CAPABILITIES.replace(
        "compute: { available: false, image_ref: img-1, flavor_ref: '42' }",
        'compute: { available: true }',
      ),
    );
    const problems = confProblems(buildTempestConf({ cloud, capabilities: bare }), bare, [
      'compute',
    ]);
    assert.equal(problems.length, 2);
    assert.match(problems[0], /image_ref .*--image-ref/);
  });

  it('lets --set override anything, and works without a cloud for listing', () => {
    const caps = parseCapabilities(CAPABILITIES);
    const conf = buildTempestConf({
      cloud: null,
      capabilities: caps,
      overrides: { 'identity-feature-enabled': { trust: 'true' } },
    });
    assert.equal(conf['identity-feature-enabled'].trust, 'true');
    assert.equal(conf.auth.admin_password, undefined);
    assert.equal(conf.identity.v3_endpoint_type, 'public');
  });

  it('renders INI over what tempest init wrote, escaping $ for oslo.config', () => {
    const base = parseIni(
      '[DEFAULT]\nlog_file = tempest.log\n\n[auth]\nadmin_username = admin\nadmin_domain_name = Default\n\n[oslo_concurrency]\nlock_path = /w/tempest_lock\n',
    );
    const conf = buildTempestConf({ cloud, capabilities: parseCapabilities(CAPABILITIES) });
    const text = renderIni(conf, base);
    const back = parseIni(text);
    assert.equal(back.DEFAULT.log_file, 'tempest.log');
    assert.equal(back.oslo_concurrency.lock_path, '/w/tempest_lock');
    assert.equal(back.auth.admin_password, 'pa$$$$word-1');
    assert.equal(back.auth.use_dynamic_credentials, 'true');
    assert.equal(back['identity-feature-enabled'].api_extensions, '');
    assert.equal(back.service_available.glance, 'true');
    assert.match(text, /^\[DEFAULT\]$/m);
    assert.ok(text.indexOf('[DEFAULT]') < text.indexOf('[auth]'), 'DEFAULT comes first');
  });

  it('refuses capabilities it does not understand', () => {
    assert.throws(
      () =>
        parseCapabilities(
          'services:\n  identity: { available: yes-ish }\n  computer: { available: true }\nidentity_features:\n  trusts: true\n',
        ),
      (err) => {
        assert.match(err.message, /services\.identity\.available must be true or false/);
        assert.match(err.message, /services\.computer: unknown service/);
        assert.match(err.message, /services\.compute is missing/);
        assert.match(err.message, /identity_features\.trusts: not a Tempest/);
        return true;
      },
    );
  });

  it("the repository's capabilities.yaml parses", () => {
    const caps = parseCapabilities(readFileSync(join(HERE, 'capabilities.yaml'), 'utf8'));
    assert.equal(caps.services.identity.available, true);
    const conf = buildTempestConf({ cloud, capabilities: caps });
    assert.equal(Object.keys(conf.service_available).length, 6);
  });
});

// ---------------------------------------------------------------------------------------
// Subunit → results → summary

const T0 = 1_795_300_000;
const mod = 'tempest.api.identity.v3.test_fixture';
const id = (cls, test, tags = '') => `${mod}.${cls}.${test}[id-${test.length}${tags}]`;
const PASS = id('Good', 'test_pass', ',smoke');
const FAIL = id('Good', 'test_fail');
const SKIP = id('Good', 'test_skip');
const BROKEN_1 = id('Broken', 'test_one');
const BROKEN_2 = id('Broken', 'test_two');
const OFF_1 = id('Off', 'test_one');
const EXCLUDED = id('Good', 'test_excluded');
const LOST = id('Lost', 'test_lost');
const COMPUTE = 'tempest.api.compute.servers.test_x.ServersTest.test_list[id-1]';

const TRACEBACK = [
  'Traceback (most recent call last):\n',
  '  File "/usr/lib/python3/dist-packages/tempest/lib/common/rest_client.py", line 299, in post\n    return self.request(\'POST\', url)\n',
  'tempest.lib.exceptions.IdentityError: Got identity error\nDetails: Unexpected status code 404\n',
];

function fixtureStream({ noise = true } = {}) {
  const w = { tags: ['worker-0'], routeCode: '0' };
  const tb = {
    mimeType: 'text/x-traceback; charset="utf8"; language="python"',
    fileName: 'traceback',
  };
  const packets = [
    // What a worker was given.
    ...[PASS, FAIL, SKIP, BROKEN_1, BROKEN_2, OFF_1, LOST, COMPUTE].map((testId) => ({
      testId,
      status: 'exists',
      ...w,
    })),
    { testId: PASS, status: 'inprogress', timestamp: T0, ...w },
    { testId: PASS, status: 'success', timestamp: T0 + 0.25, ...w },
    { testId: FAIL, status: 'inprogress', timestamp: T0 + 1, ...w },
    // A traceback in chunks, the last one with eof.
    ...TRACEBACK.map((chunk, i) => ({
      testId: FAIL,
      ...tb,
      fileBytes: chunk,
      eof: i === TRACEBACK.length - 1,
      ...w,
    })),
    { testId: FAIL, status: 'fail', timestamp: T0 + 1.5, ...w },
    { testId: SKIP, status: 'inprogress', timestamp: T0 + 2, ...w },
    {
      testId: SKIP,
      fileName: 'reason',
      mimeType: 'text/plain; charset=utf8',
      fileBytes: "Trusts aren't enabled",
      eof: true,
      ...w,
    },
    { testId: SKIP, status: 'skip', timestamp: T0 + 2, ...w },
    // A class whose setUpClass failed: its tests get no packet of their own.
    ...TRACEBACK.map((chunk, i) => ({
      testId: `setUpClass (${mod}.Broken)`,
      ...tb,
      fileBytes: chunk,
      eof: i === TRACEBACK.length - 1,
      ...w,
    })),
    { testId: `setUpClass (${mod}.Broken)`, status: 'fail', timestamp: T0 + 3, ...w },
    // A class skipped as a whole.
    {
      testId: `setUpClass (${mod}.Off)`,
      fileName: 'reason',
      fileBytes: 'Identity api v2 is not enabled',
      eof: true,
      ...w,
    },
    { testId: `setUpClass (${mod}.Off)`, status: 'skip', timestamp: T0 + 3, ...w },
    // tearDownClass trouble after the Good class passed: reported, but does not change tests.
    {
      testId: `tearDownClass (${mod}.Good)`,
      ...tb,
      fileBytes: 'Traceback (most recent call last):\nValueError: cleanup\n',
      eof: true,
      ...w,
    },
    { testId: `tearDownClass (${mod}.Good)`, status: 'fail', timestamp: T0 + 4, ...w },
    { testId: COMPUTE, status: 'skip', timestamp: T0 + 4, ...w },
  ];
  const encoded = packets.map(encodePacket);
  // Things a real stream can hold besides packets: text printed to stdout, and a
  // packet whose checksum does not match.
  const corrupt = Buffer.from(encodePacket({ testId: PASS, status: 'fail' }));
  corrupt[corrupt.length - 1] ^= 0xff;
  if (noise) encoded.splice(3, 0, Buffer.from('stray output\n'), corrupt);
  return { stream: Buffer.concat(encoded), packetCount: packets.length };
}

describe('subunit v2', () => {
  it('parses packets back, skipping what is not a packet', () => {
    const { stream, packetCount } = fixtureStream();
    const { packets, skippedBytes } = parseSubunit(stream);
    assert.equal(packets.length, packetCount);
    assert.ok(skippedBytes >= 'stray output\n'.length, `skipped ${skippedBytes}`);
    const pass = packets.find((p) => p.testId === PASS && p.status === 'success');
    assert.deepEqual(pass.tags, ['worker-0']);
    assert.equal(pass.routeCode, '0');
    assert.ok(Math.abs(pass.timestamp - (T0 + 0.25)) < 1e-6);
  });

  it('gives the same packets however the stream is cut into chunks', () => {
    const { stream } = fixtureStream();
    const whole = parseSubunit(stream);
    for (const size of [1, 7, 100]) {
      const parser = new SubunitParser();
      const packets = [];
      for (let i = 0; i < stream.length; i += size)
        packets.push(...parser.push(stream.subarray(i, i + size)));
      assert.equal(parser.end(), whole.skippedBytes);
      assert.deepEqual(packets, whole.packets);
    }
  });

  it('encodes numbers of every width', () => {
    const big = 'x'.repeat(20_000);
    const { packets } = parseSubunit(
      encodePacket({ testId: 'a.b', fileName: 'f', fileBytes: big }),
    );
    assert.equal(packets[0].fileBytes.toString(), big);
  });

  it('agrees with python3-subunit when /usr/bin/python3 has it', (t) => {
    const probe = spawnSync('/usr/bin/python3', ['-c', 'import subunit.v2'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      t.skip('python3-subunit is not installed for /usr/bin/python3');
      return;
    }
    // Our bytes, read by subunit's own parser.
    const { stream, packetCount } = fixtureStream({ noise: false });
    const read = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        `import sys, json, subunit, testtools
out = []
class R(testtools.StreamResult):
    def status(self, test_id=None, test_status=None, file_name=None, file_bytes=None, **kw):
        if test_id is not None: out.append([test_id, test_status, file_name, file_bytes.decode() if file_bytes else None])
subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name='stdout').run(R())
print(json.dumps(out))`,
      ],
      { input: stream, encoding: 'utf8' },
    );
    assert.equal(read.status, 0, read.stderr);
    const theirs = JSON.parse(read.stdout);
    const ours = parseSubunit(stream).packets.filter((p) => p.testId !== undefined);
    assert.equal(theirs.length, packetCount);
    assert.deepEqual(
      theirs,
      ours.map((p) => [
        p.testId,
        p.status ?? null,
        p.fileName ?? null,
        p.fileBytes ? p.fileBytes.toString() : null,
      ]),
    );
    // Their bytes, read by ours.
    const written = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        `import sys, datetime, subunit.v2 as v2
w = v2.StreamResultToBytes(sys.stdout.buffer)
ts = datetime.datetime(2026, 11, 22, 4, 0, 0, 500000, tzinfo=datetime.timezone.utc)
w.status(test_id='a.B.test_c[id-1]', test_status='inprogress', timestamp=ts)
w.status(test_id='a.B.test_c[id-1]', file_name='traceback', file_bytes=b'x' * 20000, mime_type='text/plain', eof=True)
w.status(test_id='a.B.test_c[id-1]', test_status='fail', test_tags={'worker-1'}, route_code='1', timestamp=ts)`,
      ],
      { encoding: 'buffer' },
    );
    assert.equal(written.status, 0, written.stderr.toString());
    const { packets, skippedBytes } = parseSubunit(written.stdout);
    assert.equal(skippedBytes, 0);
    assert.deepEqual(
      packets.map((p) => [p.testId, p.status, p.fileBytes?.length, p.tags, p.routeCode]),
      [
        ['a.B.test_c[id-1]', 'inprogress', undefined, undefined, undefined],
        ['a.B.test_c[id-1]', undefined, 20000, undefined, undefined],
        ['a.B.test_c[id-1]', 'fail', undefined, ['worker-1'], '1'],
      ],
    );
    assert.equal(packets[0].timestamp, Date.UTC(2026, 10, 22, 4, 0, 0, 500) / 1000);
  });
});

describe('results and summary', () => {
  const { stream } = fixtureStream();
  const exclusions = parseExclusions(
    `${mod.replace(/\./g, '\\.')}\\.Good\\.test_excluded  # needs a feature`,
    'exclude/identity.txt',
  );
  const listed = [PASS, FAIL, SKIP, BROKEN_1, BROKEN_2, OFF_1, EXCLUDED, LOST, COMPUTE];
  const toRun = listed.filter((t) => t !== EXCLUDED);
  const { tests, classLevel, unlisted } = buildResults({
    listed,
    toRun,
    packets: parseSubunit(stream).packets,
    exclusions,
    noResult: 'no result: timed out',
  });

  it('gives every listed test exactly one status', () => {
    assert.deepEqual(Object.keys(tests).sort(), [...listed].sort());
    assert.deepEqual(unlisted, []);
    assert.deepEqual(Object.fromEntries(Object.entries(tests).map(([k, v]) => [k, v.status])), {
      [PASS]: 'pass',
      [FAIL]: 'fail',
      [SKIP]: 'skip',
      [BROKEN_1]: 'fail',
      [BROKEN_2]: 'fail',
      [OFF_1]: 'skip',
      [EXCLUDED]: 'excluded',
      [LOST]: 'fail',
      [COMPUTE]: 'skip',
    });
  });

  it('keeps the reasons: exception line, skip reason, class-level cause, exclusion', () => {
    assert.equal(tests[PASS].duration_s, 0.25);
    assert.equal(tests[PASS].service, 'identity');
    assert.equal(tests[COMPUTE].service, 'compute');
    assert.equal(
      tests[FAIL].reason,
      'tempest.lib.exceptions.IdentityError: Got identity error Details: Unexpected status code 404',
    );
    assert.match(tests[FAIL].traceback, /^Traceback \(most recent call last\):\n {2}File/);
    assert.equal(tests[SKIP].reason, "Trusts aren't enabled");
    assert.equal(tests[BROKEN_1].via, `setUpClass (${mod}.Broken)`);
    assert.match(
      tests[BROKEN_2].reason,
      /^setUpClass failed: tempest\.lib\.exceptions\.IdentityError/,
    );
    assert.equal(
      tests[OFF_1].reason,
      'setUpClass skipped the class: Identity api v2 is not enabled',
    );
    assert.deepEqual(tests[EXCLUDED], {
      status: 'excluded',
      service: 'identity',
      reason: 'needs a feature',
      excluded_by: `${exclusions[0].pattern} (exclude/identity.txt:1)`,
    });
    assert.equal(tests[LOST].reason, 'no result: timed out');
    assert.equal(classLevel[`setUpClass (${mod}.Broken)`].affected, 2);
    assert.equal(classLevel[`tearDownClass (${mod}.Good)`].status, 'fail');
    assert.equal(classLevel[`tearDownClass (${mod}.Good)`].reason, 'ValueError: cleanup');
  });

  it('adds up to the listed count, overall and per service', () => {
    const { total, services } = summarize(tests);
    assert.deepEqual(total, { passed: 1, failed: 4, skipped: 3, excluded: 1, total: 9 });
    assert.equal(total.passed + total.failed + total.skipped + total.excluded, listed.length);
    assert.deepEqual(services.compute, { passed: 0, failed: 0, skipped: 1, excluded: 0, total: 1 });
    assert.equal(services.identity.total, 8);
    assert.equal(summaryLine(total), '1 passed, 4 failed, 3 skipped, 1 excluded');
  });

  it('groups failures by cause', () => {
    assert.deepEqual(topReasons(tests, 'fail'), [
      {
        reason:
          'tempest.lib.exceptions.IdentityError: Got identity error Details: Unexpected status code 404',
        count: 3,
      },
      { reason: 'no result: timed out', count: 1 },
    ]);
  });

  it('keeps a test tempest ran that the list did not name', () => {
    const r = buildResults({
      listed: [PASS],
      toRun: [PASS],
      packets: parseSubunit(stream).packets,
    });
    assert.ok(r.unlisted.includes(FAIL));
    assert.equal(r.tests[FAIL].status, 'fail');
  });

  it('finds the exception line of a traceback', () => {
    assert.equal(
      failureReason(
        'Traceback (most recent call last):\n  File "x", line 1\n    y()\nKeyError: 1\n',
      ),
      'KeyError: 1',
    );
    assert.equal(failureReason('just text'), 'just text');
  });
});

// ---------------------------------------------------------------------------------------
// Selection

describe('test selection and finding tempest', () => {
  it('selects the API areas of the services, narrowed by --regex', () => {
    const ids = [
      'tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token[id-1]',
      'tempest.api.identity.admin.v3.test_users.UsersV3TestJSON.test_list[id-2]',
      'tempest.api.compute.servers.test_servers.ServersTestJSON.test_x[id-3]',
      'tempest.api.image.v2.test_images.BasicOperationsImagesTest.test_y[id-4]',
      'tempest.scenario.test_identity.TestX.test_z[id-5]',
    ];
    const pick = (re) => ids.filter((i) => new RegExp(re).test(i)).map((i) => i.split('.')[2]);
    assert.deepEqual(pick(selectionRegex(['identity', 'compute'])), [
      'identity',
      'identity',
      'compute',
    ]);
    assert.deepEqual(pick(selectionRegex(['identity'], 'test_tokens')), ['identity']);
    assert.deepEqual(
      pick(selectionRegex(['identity', 'image'], '^tempest\\.api\\.identity\\.admin')),
      ['identity'],
    );
    assert.equal(selectionRegex([], 'smoke'), 'smoke');
    assert.equal(serviceOf(ids[2]), 'compute');
    assert.equal(serviceOf(ids[4]), 'other');
  });

  it('asks a non-root user to install tempest, with the command', () => {
    const lines = [];
    assert.throws(
      () =>
        ensureTempest(
          (l) => lines.push(l),
          1000,
          () => null,
        ),
      (err) => err.message.includes(`sudo ${INSTALL_COMMAND}`),
    );
    assert.deepEqual(lines, []);
    assert.equal(
      ensureTempest(
        () => undefined,
        1000,
        () => '/usr/bin/tempest',
      ),
      '/usr/bin/tempest',
    );
  });

  it('reads test ids from --list-tests output, ignoring noise', () => {
    assert.deepEqual(
      parseTestList(
        `WARNING something happened\n${'tempest.api.identity.v3.test_a.A.test_b[id-1,smoke]'}\n\ntempest.api.identity.v3.test_a.A.test_b[id-1,smoke]\ntempest.api.x.Y.test_z\n`,
      ),
      ['tempest.api.identity.v3.test_a.A.test_b[id-1,smoke]', 'tempest.api.x.Y.test_z'],
    );
  });
});
