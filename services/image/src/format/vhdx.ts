import { Probe, msGuid, u64 } from './probe.js';
import type { Region } from './region.js';

// VHDX (MS-VHDX), little-endian. 'vhdxfile' at 0; region table at 192 KiB:
//   'regi', checksum, entry count (u32), reserved; then 32-byte entries
//   (GUID, file offset u64, length u32, required u32).
// The metadata region starts with 'metadata', reserved u16, entry count u16, 20 bytes
// reserved; then 32-byte entries (item GUID, offset u32 from the region start,
// length u32, flags u32, reserved). Items of interest: virtual disk size (u64),
// file parameters (block size u32, flags u32 with bit 1 = has parent), parent locator.
const IDENT = 'vhdxfile';
const REGION_TABLE = 192 * 1024;
const REGI = 0x69676572;
const MAX_ENTRIES = 2047;
const METADATA_REGION = '8B7CA206-4790-4B9A-B8FE-575F050F886E';
const VIRTUAL_DISK_SIZE = '2FA54224-CD1B-4876-B211-5DBED83BF4B8';
const FILE_PARAMETERS = 'CAA16737-FA36-4D43-B3B6-33F0AA44E76B';
const PARENT_LOCATOR = 'A8D35F2D-B30B-454D-ABF7-D3D84834AB0C';

export class VhdxProbe extends Probe {
  readonly format = 'vhdx' as const;
  private size: number | undefined;

  constructor() {
    super();
    this.capture(0, 8, (id) => {
      if (id.toString('latin1') !== IDENT) return this.reject();
      this.match();
      this.capture(REGION_TABLE, 16, (h) => this.regionTable(h));
    });
  }

  private regionTable(h: Buffer): void {
    if (h.readUInt32LE(0) !== REGI) return this.problem('VHDX region table signature is missing');
    const count = h.readUInt32LE(8);
    if (count === 0 || count > MAX_ENTRIES)
      return this.problem(`VHDX region count ${count} is invalid`);
    this.capture(REGION_TABLE + 16, count * 32, (entries) => {
      for (let at = 0; at < entries.length; at += 32) {
        if (msGuid(entries, at) !== METADATA_REGION) continue;
        const offset = u64(entries.readBigUInt64LE(at + 16));
        if (offset === undefined) return this.problem('VHDX metadata offset is out of range');
        this.capture(offset, 32, (m) => this.metadataHeader(offset, m));
        return;
      }
      this.problem('VHDX has no metadata region');
    });
  }

  private metadataHeader(base: number, m: Buffer): void {
    if (m.toString('latin1', 0, 8) !== 'metadata') {
      return this.problem('VHDX metadata signature is missing');
    }
    const count = m.readUInt16LE(10);
    if (count > MAX_ENTRIES) return this.problem(`VHDX metadata entry count ${count} is invalid`);
    this.capture(base + 32, count * 32, (entries) => {
      let sawSize = false;
      for (let at = 0; at < entries.length; at += 32) {
        const id = msGuid(entries, at);
        const itemOffset = base + entries.readUInt32LE(at + 16);
        if (id === PARENT_LOCATOR)
          this.problem('VHDX is a differencing disk (has a parent locator)');
        if (id === VIRTUAL_DISK_SIZE && !sawSize) {
          sawSize = true;
          this.capture(itemOffset, 8, (v) => {
            const size = u64(v.readBigUInt64LE(0));
            if (size === undefined) this.problem('VHDX virtual size is out of range');
            this.size = size ?? 0;
          });
        }
        if (id === FILE_PARAMETERS) {
          this.capture(itemOffset, 8, (p) => {
            if (p.readUInt32LE(4) & 0x2) this.problem('VHDX is a differencing disk (has a parent)');
          });
        }
      }
      if (!sawSize) this.problem('VHDX metadata has no virtual disk size');
    });
  }

  protected onFinish(_total: number, incomplete: Region[]): void {
    if (this.state !== 'match') return;
    if (incomplete.length > 0 || this.size === undefined) {
      this.problem('VHDX image is truncated before its metadata');
    }
  }

  virtualSize(): number {
    return this.size ?? 0;
  }
}
