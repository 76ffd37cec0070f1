/**
 * The standard OpenStack port of every API role Stratus serves. `--port-offset N` adds
 * N to all of them so that two clouds can run side by side on one machine.
 */
export const STANDARD_PORTS = {
  identity: 5000,
  compute: 8774,
  'compute-metadata': 8775,
  'compute-console': 6080,
  placement: 8778,
  image: 9292,
  network: 9696,
  'block-storage': 8776,
  'object-store': 8080,
  orchestration: 8004,
  metric: 8041,
  alarming: 8042,
  baremetal: 6385,
  dashboard: 8000,
} as const;

export type PortName = keyof typeof STANDARD_PORTS;

export function portFor(name: PortName, offset = 0): number {
  const port = STANDARD_PORTS[name] + offset;
  if (!Number.isInteger(offset) || offset < 0 || port > 65535) {
    throw new RangeError(`port offset ${offset} moves ${name} outside 1-65535`);
  }
  return port;
}

/** Every standard port moved by `offset`. */
export function portMap(offset = 0): Record<PortName, number> {
  return Object.fromEntries(
    (Object.keys(STANDARD_PORTS) as PortName[]).map((name) => [name, portFor(name, offset)]),
  ) as Record<PortName, number>;
}
