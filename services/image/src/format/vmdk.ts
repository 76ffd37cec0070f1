import { Probe, u64 } from './probe.js';
import type { Region, TailRegion } from './region.js';

// Hosted sparse extent header (little-endian), VMware "Virtual Disk Format 1.1":
//   0 magic 'KDMV'  4 version  8 flags  12 capacity (u64, sectors)  20 grainSize (u64)
//  28 descriptorOffset (u64, sectors)  36 descriptorSize (u64, sectors)
//  44 numGTEsPerGT  48 rgdOffset (u64)  56 gdOffset (u64)
// The embedded descriptor is text ("createType", extent lines, ddb.* entries).
// streamOptimized images may keep the grain directory at the end (gdOffset all ones):
// then a footer marker, a copy of the header and an end-of-stream marker close the file.
// A VMDK may also be a text descriptor alone, whose extents are other files.
const KDMV = 0x564d444b; // 'KDMV' read little-endian
const COWD = 0x434f5744; // 'COWD' (VMDK3) read big-endian
const SPARSE_HEADER = 64;
const DESC_MAX = 1024 * 1024;
const TEXT_SCAN = 64 * 1024;
const GD_AT_END = 0xffffffffffffffffn;
const SAFE_TYPES = new Set(['monolithicsparse', 'streamoptimized']);

interface SparseHeader {
  version: number;
  capacity: bigint;
  descOffset: bigint;
  descSize: bigint;
  gdOffset: bigint;
}

function parseSparse(h: Buffer, at = 0): SparseHeader {
  return {
    version: h.readUInt32LE(at + 4),
    capacity: h.readBigUInt64LE(at + 12),
    descOffset: h.readBigUInt64LE(at + 28),
    descSize: h.readBigUInt64LE(at + 36),
    gdOffset: h.readBigUInt64LE(at + 56),
  };
}

function isTextByte(b: number): boolean {
  return b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b <= 0x7e);
}

export class VmdkProbe extends Probe {
  readonly format = 'vmdk' as const;
  private mode: 'sparse' | 'text' | undefined;
  private header: SparseHeader | undefined;
  private footer: TailRegion | undefined;
  private textRegion: Region | undefined;
  private size = 0;

  constructor() {
    super();
    this.capture(0, 4, (m) => {
      if (m.readUInt32LE(0) === KDMV) {
        this.mode = 'sparse';
        this.capture(4, SPARSE_HEADER - 4, (rest) => this.sparse(Buffer.concat([m, rest])));
      } else if (m.readUInt32BE(0) === COWD) {
        this.match();
        this.problem('VMDK3 (COWD) images are not supported');
      } else if (m.every(isTextByte)) {
        this.mode = 'text';
        this.textRegion = this.capture(4, TEXT_SCAN - 4, (rest) => {
          // 64 KiB of pure text: a descriptor file this large is not acceptable.
          if (this.looksLikeDescriptor(Buffer.concat([m, rest]).toString('latin1'))) {
            this.match();
            this.problem(`VMDK descriptor is larger than ${TEXT_SCAN} bytes`);
          } else this.reject();
        });
        this.textHead = m;
      } else this.reject();
    });
  }

  private textHead: Buffer | undefined;

  protected override scan(slice: Buffer, start: number): void {
    if (this.mode !== 'text' || this.state !== 'pending' || start >= TEXT_SCAN) return;
    if (!slice.every(isTextByte)) this.reject();
  }

  private looksLikeDescriptor(text: string): boolean {
    return /^\s*createtype\s*=/im.test(text) || /^#\s*disk\s*descriptorfile/im.test(text);
  }

  private sparse(h: Buffer): void {
    this.match();
    const hdr = parseSparse(h);
    this.header = hdr;
    const capacity = u64(hdr.capacity * 512n);
    if (capacity === undefined) this.problem('VMDK capacity is out of range');
    this.size = capacity ?? 0;
    if (hdr.version < 1 || hdr.version > 3) this.problem(`unsupported VMDK version ${hdr.version}`);
    if (hdr.capacity === 0n) {
      // QEMU then opens the embedded descriptor as a descriptor file, with its extents.
      this.problem('VMDK sparse header has zero capacity');
    }
    if (hdr.gdOffset === GD_AT_END) this.footer = this.captureTail(1536);
    if (hdr.descOffset === 0n) {
      this.problem('VMDK has no embedded descriptor (an extent of a multi-file VMDK)');
      return;
    }
    if (hdr.descOffset !== 1n) {
      this.problem('VMDK embedded descriptor is not at sector 1');
      return;
    }
    const descBytes = hdr.descSize * 512n;
    if (descBytes === 0n) return this.problem('VMDK embedded descriptor is empty');
    if (descBytes > BigInt(DESC_MAX)) {
      return this.problem(`VMDK descriptor is larger than ${DESC_MAX} bytes`);
    }
    this.capture(512, Number(descBytes), (d) => this.descriptor(d, true));
  }

  private descriptor(raw: Buffer, embedded: boolean): void {
    const nul = raw.indexOf(0);
    const bytes = nul >= 0 ? raw.subarray(0, nul) : raw;
    if (!bytes.every(isTextByte)) return this.problem('VMDK descriptor is not ASCII text');
    const text = bytes.toString('latin1').toLowerCase();
    let createType: string | undefined;
    const extents: string[][] = [];
    for (const rawLine of text.split('\n')) {
      const line = rawLine.trim();
      if (line === '' || line.startsWith('#') || line.startsWith('ddb.')) continue;
      const eq = line.indexOf('=');
      const firstWord = line.split(/\s+/)[0] ?? '';
      if (['rw', 'rdonly', 'noaccess'].includes(firstWord)) {
        extents.push(line.match(/"[^"]*"|\S+/g) ?? []);
      } else if (eq > 0 && !/\s/.test(line.slice(0, eq).trim())) {
        const key = line.slice(0, eq).trim();
        const value = line
          .slice(eq + 1)
          .trim()
          .replace(/^"(.*)"$/, '$1');
        if (key === 'createtype') createType = value;
        if (key === 'parentfilenamehint') this.problem('VMDK has a parent (backing) disk');
        if (key === 'parentcid' && value !== 'ffffffff') {
          this.problem('VMDK has a parent (backing) disk');
        }
      } else {
        this.problem('VMDK descriptor has an unrecognised line');
      }
    }
    if (createType === undefined) this.problem('VMDK descriptor has no createType');
    else if (!embedded) {
      this.problem(`descriptor-only VMDK (createType ${createType}) keeps its data in other files`);
    } else if (!SAFE_TYPES.has(createType)) {
      this.problem(`VMDK createType ${createType} is not allowed`);
    }
    if (extents.length === 0) this.problem('VMDK descriptor lists no extents');
    if (embedded && extents.length > 1) {
      this.problem(`VMDK descriptor lists ${extents.length} extents; only one is allowed`);
    }
    for (const ext of extents) {
      const type = ext[2] ?? '';
      const name = (ext[3] ?? '').replace(/^"(.*)"$/, '$1');
      if (embedded && type !== 'sparse') this.problem(`VMDK extent type ${type} is not allowed`);
      if (/[/\\]/.test(name)) this.problem('VMDK extent file name contains a path');
    }
    if (!embedded) {
      let sectors = 0;
      for (const ext of extents) sectors += Number(ext[1] ?? 0) || 0;
      this.size = sectors * 512;
    }
  }

  protected onFinish(_total: number, incomplete: Region[]): void {
    if (this.mode === 'text' && this.state === 'pending') {
      const region = this.textRegion;
      const head = this.textHead ?? Buffer.alloc(0);
      const text = Buffer.concat([head, region ? region.data : Buffer.alloc(0)]);
      if (!this.looksLikeDescriptor(text.toString('latin1'))) return this.reject();
      this.match();
      this.descriptor(text, false);
      return;
    }
    if (this.state !== 'match' || this.mode !== 'sparse') return;
    if (incomplete.length > 0) this.problem('VMDK image is truncated before its descriptor ends');
    if (this.footer && this.header) this.checkFooter(this.footer.data, this.header);
  }

  private checkFooter(tail: Buffer, hdr: SparseHeader): void {
    if (tail.length < 1536) return this.problem('VMDK stream is too short for its footer');
    const marker = (at: number) => ({
      size: tail.readUInt32LE(at + 8),
      type: tail.readUInt32LE(at + 12),
      zero: tail.subarray(at + 16, at + 512).every((b) => b === 0),
      value: tail.readBigUInt64LE(at),
    });
    const fm = marker(0);
    if (fm.size !== 0 || fm.type !== 3 || !fm.zero)
      return this.problem('VMDK footer marker is invalid');
    if (tail.readUInt32LE(512) !== KDMV) return this.problem('VMDK footer signature is invalid');
    const f = parseSparse(tail, 512);
    if (f.version !== hdr.version) this.problem('VMDK header and footer versions differ');
    if (f.descOffset !== hdr.descOffset || f.descSize !== hdr.descSize) {
      this.problem('VMDK footer names a different descriptor than the header');
    }
    if (f.gdOffset === GD_AT_END) this.problem('VMDK footer points at another footer');
    const eos = marker(1024);
    if (eos.value !== 0n || eos.size !== 0 || eos.type !== 0 || !eos.zero) {
      this.problem('VMDK end-of-stream marker is invalid');
    }
  }

  virtualSize(): number {
    return this.size;
  }
}
