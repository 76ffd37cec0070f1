import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { portMap, type PortName } from './ports.js';

const run = promisify(execFile);

/**
 * What this host offers to the drivers, measured rather than assumed. KVM in particular
 * is judged by the CPU's virtualisation flags as well as /dev/kvm: some hosts expose a
 * /dev/kvm (a paravirtual backend) that cannot run stock guest kernels.
 */
export interface HostFacts {
  root: boolean;
  cpuVirtFlags: boolean;
  devKvm: boolean;
  vhostNet: boolean;
  tools: Record<ToolName, ToolFact>;
  bridge: Capability;
  vxlan: Capability;
  vlan: Capability;
  ports: Array<{ name: PortName; port: number; free: boolean }>;
}

export interface Capability {
  ok: boolean;
  detail: string;
}

export interface ToolFact {
  found: boolean;
  version: string;
  package: string;
}

export const TOOLS = {
  'qemu-system-x86_64': { package: 'qemu-system-x86', args: ['--version'] },
  'qemu-img': { package: 'qemu-utils', args: ['--version'] },
  dnsmasq: { package: 'dnsmasq-base', args: ['--version'] },
  iptables: { package: 'iptables', args: ['--version'] },
  ip: { package: 'iproute2', args: ['-V'] },
  unshare: { package: 'util-linux', args: ['--version'] },
} as const;

export type ToolName = keyof typeof TOOLS;

async function probeTool(name: ToolName): Promise<ToolFact> {
  const spec = TOOLS[name];
  try {
    const { stdout, stderr } = await run(name, [...spec.args], { timeout: 5000 });
    const first = (stdout || stderr).split('\n')[0]?.trim() ?? '';
    return { found: true, version: first, package: spec.package };
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return { found: !missing, version: missing ? '' : 'unknown', package: spec.package };
  }
}

/** Runs a shell snippet in a new, empty network namespace: nothing on the host changes. */
async function probeInNetns(script: string, root: boolean): Promise<Capability> {
  if (!root) return { ok: false, detail: 'not checked: needs root' };
  try {
    await run('unshare', ['--net', 'sh', '-ec', script], { timeout: 5000 });
    return { ok: true, detail: 'works' };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { ok: false, detail: (e.stderr || e.message).trim().split('\n')[0] ?? 'failed' };
  }
}

async function canOpen(path: string, mode: number): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}

function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function probeHost(options: {
  bindHost: string;
  portOffset: number;
}): Promise<HostFacts> {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const flagLines = cpuinfo.split('\n').filter((l) => l.startsWith('flags'));
  const cpuVirtFlags = flagLines.some((l) => /\b(vmx|svm)\b/.test(l));
  const toolNames = Object.keys(TOOLS) as ToolName[];
  const [tools, devKvm, vhostNet, bridge, vxlan, vlan, ports] = await Promise.all([
    Promise.all(toolNames.map(async (n) => [n, await probeTool(n)] as const)).then(
      (entries) => Object.fromEntries(entries) as Record<ToolName, ToolFact>,
    ),
    canOpen('/dev/kvm', constants.R_OK | constants.W_OK),
    canOpen('/dev/vhost-net', constants.R_OK | constants.W_OK),
    probeInNetns('ip link add stratus-br0 type bridge', root),
    probeInNetns('ip link add stratus-vx0 type vxlan id 42 dstport 4789 local 127.0.0.1', root),
    probeInNetns(
      'ip link add stratus-d0 type dummy; ip link add link stratus-d0 name stratus-d0.5 type vlan id 5',
      root,
    ),
    Promise.all(
      Object.entries(portMap(options.portOffset)).map(async ([name, port]) => ({
        name: name as PortName,
        port,
        free: await portIsFree(options.bindHost, port),
      })),
    ),
  ]);
  return { root, cpuVirtFlags, devKvm, vhostNet, tools, bridge, vxlan, vlan, ports };
}

export interface DriverChoice {
  /** The compute virt driver and how it runs guests. */
  virt: { driver: 'qemu' | 'fake'; accel: 'kvm' | 'tcg' | 'none'; reason: string };
  network: { driver: 'linuxbridge' | 'noop'; tenantTypes: string[]; reason: string };
  volume: { driver: 'file' | 'fake'; reason: string };
}

/** The drivers `stratus up` chooses on a host with these facts. */
export function chooseDrivers(facts: HostFacts): DriverChoice {
  const qemu = facts.tools['qemu-system-x86_64'].found;
  const virt: DriverChoice['virt'] = !qemu
    ? { driver: 'fake', accel: 'none', reason: 'qemu-system-x86_64 is not installed' }
    : facts.cpuVirtFlags && facts.devKvm
      ? { driver: 'qemu', accel: 'kvm', reason: 'CPU has vmx/svm and /dev/kvm is usable' }
      : {
          driver: 'qemu',
          accel: 'tcg',
          reason: facts.devKvm
            ? '/dev/kvm exists but the CPU shows no vmx/svm flags: it cannot run stock guests, so software emulation'
            : 'no /dev/kvm: software emulation',
        };

  const missing = (['ip', 'iptables', 'dnsmasq'] as const).filter((t) => !facts.tools[t].found);
  let network: DriverChoice['network'];
  if (!facts.root)
    network = { driver: 'noop', tenantTypes: ['local'], reason: 'not running as root' };
  else if (missing.length > 0 || !facts.bridge.ok)
    network = {
      driver: 'noop',
      tenantTypes: ['local'],
      reason: missing.length
        ? `missing ${missing.join(', ')}`
        : `no Linux bridge: ${facts.bridge.detail}`,
    };
  else {
    const types = [
      'local',
      'flat',
      ...(facts.vxlan.ok ? ['vxlan'] : []),
      ...(facts.vlan.ok ? ['vlan'] : []),
    ];
    network = {
      driver: 'linuxbridge',
      tenantTypes: types,
      reason: 'bridges, iptables and dnsmasq are available',
    };
  }

  const volume: DriverChoice['volume'] = facts.tools['qemu-img'].found
    ? { driver: 'file', reason: 'qemu-img is installed' }
    : { driver: 'fake', reason: 'qemu-img is not installed' };
  return { virt, network, volume };
}
