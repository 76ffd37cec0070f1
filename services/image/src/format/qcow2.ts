import { Probe, u64 } from './probe.js';
import type { Region } from './region.js';

// QCOW2 header (big-endian), docs/interop/qcow2.txt in QEMU:
//   0 magic 'QFI\xfb'   4 version   8 backing_file_offset (u64)   16 backing_file_size
//  20 cluster_bits     24 size (u64, virtual size in bytes)        32 crypt_method ...
//  version 3 adds: 72 incompatible_features (u64)  80 compatible  88 autoclear
//                  96 refcount_order  100 header_length
// Header extensions (type u32, length u32, data padded to 8 bytes) follow the header
// inside the first cluster; type 0x44415441 names an external data file.
const MAGIC = 0x514649fb;
const HEADER_LEN = 104; // QEMU's probe needs the whole v3-sized header
const V1_HEADER_LEN = 48;
const INCOMPAT_DATA_FILE = 1n << 2n;
const INCOMPAT_KNOWN = (1n << 5n) - 1n; // dirty, corrupt, data file, compression, extended L2
const EXT_END = 0;
const EXT_DATA_FILE = 0x44415441;
const EXT_SCAN_LIMIT = 64 * 1024;

export class Qcow2Probe extends Probe {
  readonly format = 'qcow2' as const;
  private size = 0;
  private extensionsDone = true;

  constructor() {
    super();
    this.capture(0, 8, (h) => {
      if (h.readUInt32BE(0) !== MAGIC) return this.reject();
      const version = h.readUInt32BE(4);
      if (version === 0) return this.reject();
      const rest = (version === 1 ? V1_HEADER_LEN : HEADER_LEN) - 8;
      this.capture(8, rest, (tail) => this.header(Buffer.concat([h, tail]), version));
    });
  }

  private header(h: Buffer, version: number): void {
    this.match();
    const size = u64(h.readBigUInt64BE(24));
    if (size === undefined) this.problem('qcow2 virtual size is out of range');
    this.size = size ?? 0;
    if (version === 1) {
      this.problem('qcow version 1 images are not supported');
      if (h.readBigUInt64BE(8) !== 0n) this.problem('qcow image has a backing file');
      return;
    }
    if (version > 3) this.problem(`unsupported qcow2 version ${version}`);
    const backingOffset = h.readBigUInt64BE(8);
    if (backingOffset !== 0n) this.problem('qcow2 image has a backing file');
    const clusterBits = h.readUInt32BE(20);
    if (clusterBits < 9 || clusterBits > 21) {
      this.problem(`qcow2 cluster_bits ${clusterBits} is invalid`);
      return;
    }
    let extStart = 72;
    if (version >= 3) {
      const incompat = h.readBigUInt64BE(72);
      if (incompat & INCOMPAT_DATA_FILE) this.problem('qcow2 image uses an external data file');
      const unknown = incompat & ~INCOMPAT_KNOWN;
      if (unknown)
        this.problem(`qcow2 image has unknown incompatible features 0x${unknown.toString(16)}`);
      extStart = h.readUInt32BE(100);
      if (extStart < HEADER_LEN || extStart % 8 !== 0) {
        this.problem(`qcow2 header_length ${extStart} is invalid`);
        return;
      }
    }
    // Extensions live between the header and the end of the first cluster (or the
    // backing file name); inspect at most 64 KiB of it.
    let limit = Math.min(2 ** clusterBits, EXT_SCAN_LIMIT);
    if (backingOffset !== 0n && backingOffset < BigInt(limit)) limit = Number(backingOffset);
    if (limit - extStart < 8) return;
    this.extensionsDone = false;
    // A version 2 header is 72 bytes, but 104 have been read already: keep those.
    this.extPrefix = Buffer.from(h.subarray(extStart, HEADER_LEN));
    const from = Math.max(extStart, HEADER_LEN);
    if (limit <= from) return this.extensions(this.extPrefix);
    this.extRegion = this.capture(from, limit - from, (ext) =>
      this.extensions(Buffer.concat([this.extPrefix, ext])),
    );
  }

  private extRegion: Region | undefined;
  private extPrefix = Buffer.alloc(0);

  private extensions(ext: Buffer): void {
    let at = 0;
    while (at + 8 <= ext.length) {
      const type = ext.readUInt32BE(at);
      const len = ext.readUInt32BE(at + 4);
      if (type === EXT_END) {
        this.extensionsDone = true;
        return;
      }
      if (type === EXT_DATA_FILE) this.problem('qcow2 image names an external data file');
      at += 8 + Math.ceil(len / 8) * 8;
    }
  }

  protected onFinish(_total: number, incomplete: Region[]): void {
    if (this.state !== 'match') return;
    // The stream ended inside the first cluster: parse what arrived.
    if (this.extRegion && incomplete.includes(this.extRegion)) {
      this.extensions(Buffer.concat([this.extPrefix, this.extRegion.data]));
    }
    if (!this.extensionsDone) this.problem('qcow2 header extensions could not be fully inspected');
  }

  virtualSize(): number {
    return this.size;
  }
}
