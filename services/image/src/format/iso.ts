import { Probe } from './probe.js';
import type { Region } from './region.js';

// ISO 9660 / UDF: the first 16 sectors of 2048 bytes are a system area (boot code,
// often an MBR or GPT on hybrid images); the volume descriptor set starts at 32 KiB.
// Each descriptor: type (1 byte), standard identifier (5 bytes: 'CD001', or for UDF
// 'BEA01' / 'NSR02' / 'NSR03' / 'TEA01'), version. The primary volume descriptor
// (type 1) holds the volume space size (both-endian u32 at 80) and the logical block
// size (both-endian u16 at 128).
const START = 32 * 1024;
const SECTOR = 2048;
const SECTORS = 3;

export class IsoProbe extends Probe {
  readonly format = 'iso' as const;
  private size: number | undefined;
  private declared = 0;
  private readonly region: Region;

  constructor() {
    super();
    this.region = this.capture(START, SECTOR * SECTORS, (d) => this.descriptors(d));
  }

  private descriptors(d: Buffer): void {
    const ids: string[] = [];
    for (let at = 0; at + SECTOR <= d.length; at += SECTOR)
      ids.push(d.toString('latin1', at + 1, at + 6));
    const iso9660 = ids[0] === 'CD001';
    const udf = ids.some((id) => id === 'NSR02' || id === 'NSR03');
    if (!iso9660 && !udf) return this.reject();
    this.match();
    if (iso9660 && d[0] === 1) {
      const blocks = d.readUInt32LE(80);
      const blockSize = d.readUInt16LE(128);
      if (blocks !== d.readUInt32BE(84) || blockSize !== d.readUInt16BE(130)) {
        this.problem('ISO primary volume descriptor has inconsistent sizes');
      }
      if (blockSize === 0 || (blockSize & (blockSize - 1)) !== 0 || blockSize > SECTOR) {
        this.problem(`ISO logical block size ${blockSize} is invalid`);
      }
      this.declared = blocks * blockSize;
      this.size = this.declared;
    }
  }

  protected onFinish(total: number): void {
    // The stream ended inside the descriptor set: decide on the sectors that arrived.
    if (this.state === 'pending' && this.region.data.length >= SECTOR) {
      this.descriptors(
        this.region.data.subarray(0, Math.floor(this.region.data.length / SECTOR) * SECTOR),
      );
    }
    if (this.state === 'match' && this.declared > total) {
      this.problem(`ISO volume claims ${this.declared} bytes but only ${total} were read`);
    }
  }

  virtualSize(total: number): number {
    return this.size ?? total;
  }
}
