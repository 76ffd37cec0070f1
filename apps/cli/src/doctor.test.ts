import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { chooseDrivers, TOOLS, type HostFacts, type ToolName } from '@stratus/runtime';
import { formatDoctorReport } from './doctor.js';
import { runCli } from './testing/run-cli.js';

function facts(overrides: Partial<HostFacts> = {}, missingTools: ToolName[] = []): HostFacts {
  const tools = Object.fromEntries(
    (Object.keys(TOOLS) as ToolName[]).map((n) => [
      n,
      {
        found: !missingTools.includes(n),
        version: missingTools.includes(n) ? '' : `${n} 1.0`,
        package: TOOLS[n].package,
      },
    ]),
  ) as HostFacts['tools'];
  return {
    root: true,
    cpuVirtFlags: true,
    devKvm: true,
    vhostNet: true,
    tools,
    bridge: { ok: true, detail: 'works' },
    vxlan: { ok: true, detail: 'works' },
    vlan: { ok: true, detail: 'works' },
    ports: [{ name: 'identity', port: 5000, free: true }],
    ...overrides,
  };
}

describe('driver choice', () => {
  it('uses KVM only with vmx/svm flags and a usable /dev/kvm', () => {
    assert.equal(chooseDrivers(facts()).virt.accel, 'kvm');
    const pvm = chooseDrivers(facts({ cpuVirtFlags: false, devKvm: true }));
    assert.equal(pvm.virt.driver, 'qemu');
    assert.equal(pvm.virt.accel, 'tcg');
    assert.match(pvm.virt.reason, /no vmx\/svm/);
    assert.equal(chooseDrivers(facts({ cpuVirtFlags: true, devKvm: false })).virt.accel, 'tcg');
    assert.equal(chooseDrivers(facts({}, ['qemu-system-x86_64'])).virt.driver, 'fake');
  });

  it('uses linuxbridge with the tenant types the kernel supports', () => {
    const d = chooseDrivers(facts({ vlan: { ok: false, detail: 'Unknown device type' } }));
    assert.equal(d.network.driver, 'linuxbridge');
    assert.deepEqual(d.network.tenantTypes, ['local', 'flat', 'vxlan']);
    assert.equal(chooseDrivers(facts({ root: false })).network.driver, 'noop');
    const noDnsmasq = chooseDrivers(facts({}, ['dnsmasq']));
    assert.equal(noDnsmasq.network.driver, 'noop');
    assert.match(noDnsmasq.network.reason, /missing dnsmasq/);
  });

  it('uses file volumes with qemu-img, else fake', () => {
    assert.equal(chooseDrivers(facts()).volume.driver, 'file');
    assert.equal(chooseDrivers(facts({}, ['qemu-img'])).volume.driver, 'fake');
  });

  it('names the package to install for each missing piece', () => {
    const report = formatDoctorReport(facts({ cpuVirtFlags: false }, ['dnsmasq', 'qemu-img']));
    assert.match(report, /dnsmasq .*install: apt-get install dnsmasq-base/);
    assert.match(report, /To install what is missing: apt-get install qemu-utils dnsmasq-base/);
    assert.match(report, /\/dev\/kvm exists, but the CPU shows no vmx\/svm flags/);
    assert.match(report, /compute virt: +qemu \(TCG software emulation\)/);
  });
});

describe('stratus doctor on this host', () => {
  it('tells the truth about KVM: vmx/svm flags and /dev/kvm, never /dev/kvm alone', async () => {
    const r = await runCli(['doctor', '--json', '--port-offset', '31000']);
    assert.equal(r.code, 0, r.stderr);
    const found = JSON.parse(r.stdout) as HostFacts;
    const flags = /^flags\s*:.*\b(vmx|svm)\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
    assert.equal(found.cpuVirtFlags, flags);
    assert.equal(chooseDrivers(found).virt.accel === 'kvm', flags && found.devKvm);
    assert.equal(found.ports.find((p) => p.name === 'identity')?.port, 36000);
  });

  it('prints a readable report', async () => {
    const r = await runCli(['doctor', '--port-offset', '31000']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hardware KVM/);
    assert.match(r.stdout, /Drivers `stratus up` will choose/);
  });
});
