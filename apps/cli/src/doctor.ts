import { chooseDrivers, type HostFacts } from '@stratus/runtime';

const mark = (ok: boolean): string => (ok ? 'ok  ' : 'MISS');

/** The human report of `stratus doctor`: what the host has, and what `up` will use. */
export function formatDoctorReport(facts: HostFacts): string {
  const lines: string[] = [];
  const missingPackages = new Set<string>();
  const add = (ok: boolean, what: string, detail: string, pkg?: string): void => {
    lines.push(
      `  ${mark(ok)}  ${what.padEnd(26)} ${detail}${!ok && pkg ? `  (install: apt-get install ${pkg})` : ''}`,
    );
    if (!ok && pkg) missingPackages.add(pkg);
  };

  lines.push('Host');
  add(
    facts.root,
    'root',
    facts.root ? 'running as root' : 'not root: no bridges, namespaces or iptables',
  );
  const kvm = facts.cpuVirtFlags && facts.devKvm;
  add(
    kvm,
    'hardware KVM',
    kvm
      ? 'CPU has vmx/svm and /dev/kvm is usable'
      : facts.devKvm
        ? '/dev/kvm exists, but the CPU shows no vmx/svm flags: it cannot run stock guests (software emulation instead)'
        : facts.cpuVirtFlags
          ? 'CPU has vmx/svm but /dev/kvm is missing or not accessible (load kvm_intel/kvm_amd)'
          : 'no vmx/svm CPU flags and no /dev/kvm',
  );
  add(
    facts.vhostNet,
    'vhost-net',
    facts.vhostNet ? '/dev/vhost-net is usable' : 'absent: virtio-net without vhost',
  );

  lines.push('Tools');
  for (const [name, tool] of Object.entries(facts.tools)) {
    add(tool.found, name, tool.found ? tool.version : 'not found', tool.package);
  }

  lines.push('Networking (probed in a throw-away network namespace)');
  add(facts.bridge.ok, 'Linux bridge', facts.bridge.detail);
  add(facts.vxlan.ok, 'VXLAN', facts.vxlan.detail);
  add(
    facts.vlan.ok,
    'VLAN (8021q)',
    facts.vlan.ok ? 'works' : `${facts.vlan.detail}: VLAN tenant networks unavailable`,
  );

  lines.push('Ports');
  const busy = facts.ports.filter((p) => !p.free);
  add(
    busy.length === 0,
    'API ports',
    busy.length === 0
      ? `all ${facts.ports.length} free (${facts.ports.map((p) => p.port).join(', ')})`
      : `in use: ${busy.map((p) => `${p.name} ${p.port}`).join(', ')} (use --port-offset)`,
  );

  const drivers = chooseDrivers(facts);
  lines.push('Drivers `stratus up` will choose');
  lines.push(
    `  compute virt:   ${drivers.virt.driver}${drivers.virt.driver === 'qemu' ? ` (${drivers.virt.accel === 'kvm' ? 'KVM' : 'TCG software emulation'})` : ''} — ${drivers.virt.reason}`,
  );
  lines.push(
    `  network:        ${drivers.network.driver} (tenant network types: ${drivers.network.tenantTypes.join(', ')}) — ${drivers.network.reason}`,
  );
  lines.push(`  block storage:  ${drivers.volume.driver} — ${drivers.volume.reason}`);
  lines.push('  database:       sqlite (embedded); message bus: memory (in-process)');
  if (missingPackages.size > 0) {
    lines.push('', `To install what is missing: apt-get install ${[...missingPackages].join(' ')}`);
  }
  return lines.join('\n') + '\n';
}
