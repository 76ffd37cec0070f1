/** RPC API versions are `major.minor`, as in oslo.messaging. */
export interface Version {
  major: number;
  minor: number;
}

const VERSION_RE = /^(\d+)\.(\d+)$/;

export function parseVersion(version: string): Version | undefined {
  const m = VERSION_RE.exec(version);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

function mustParse(version: string): Version {
  const v = parseVersion(version);
  if (!v) throw new TypeError(`not an RPC API version (major.minor): ${JSON.stringify(version)}`);
  return v;
}

/** Negative, zero or positive as `a` is older than, equal to or newer than `b`. */
export function compareVersions(a: string, b: string): number {
  const x = mustParse(a);
  const y = mustParse(b);
  return x.major - y.major || x.minor - y.minor;
}

/**
 * True when a peer speaking `supported` can handle a message sent as `message`: the same
 * major (majors break compatibility) and a minor no newer than its own (minors only add).
 */
export function isCompatible(supported: string, message: string): boolean {
  const s = mustParse(supported);
  const m = parseVersion(message);
  return m !== undefined && m.major === s.major && m.minor <= s.minor;
}
