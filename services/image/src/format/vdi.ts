import { Probe, u64 } from './probe.js';

// VirtualBox VDI header (little-endian), 512 bytes after a 64-byte text banner:
//  0x40 signature 0xbeda107f  0x44 version  0x4c image type (1 dynamic, 2 static,
//  3 undo, 4 differencing)  0x168 sector size  0x170 disk size (u64)  0x178 block size
const SIGNATURE = 0xbeda107f;
const HEADER = 512;
const VERSION_1_1 = 0x00010001;

export class VdiProbe extends Probe {
  readonly format = 'vdi' as const;
  private size = 0;

  constructor() {
    super();
    this.capture(0, 0x44, (head) => {
      if (head.readUInt32LE(0x40) !== SIGNATURE) return this.reject();
      // QEMU only probes a VDI when the whole header is there.
      this.capture(0x44, HEADER - 0x44, (rest) => this.header(Buffer.concat([head, rest])));
    });
  }

  private header(h: Buffer): void {
    this.match();
    const version = h.readUInt32LE(0x44);
    if (version !== VERSION_1_1) this.problem(`unsupported VDI version 0x${version.toString(16)}`);
    const type = h.readUInt32LE(0x4c);
    if (type !== 1 && type !== 2) this.problem(`VDI image type ${type} is not allowed`);
    const sectorSize = h.readUInt32LE(0x168);
    if (sectorSize !== 512) this.problem(`VDI sector size ${sectorSize} is not supported`);
    const blockSize = h.readUInt32LE(0x178);
    if (blockSize !== 1024 * 1024) this.problem(`VDI block size ${blockSize} is not supported`);
    const size = u64(h.readBigUInt64LE(0x170));
    if (size === undefined) this.problem('VDI disk size is out of range');
    this.size = size ?? 0;
  }

  protected onFinish(): void {}

  virtualSize(): number {
    return this.size;
  }
}
