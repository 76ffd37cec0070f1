import { Probe, u64 } from './probe.js';
import type { Region, TailRegion } from './region.js';

// VHD ("vpc" in QEMU) footer, 512 bytes big-endian. Dynamic and differencing disks
// start with a copy of it; fixed disks have it only at the very end.
//   0 cookie 'conectix'  28 creator application (4 chars)  40 original size (u64)
//  48 current size (u64)  56 cylinders (u16)  58 heads (u8)  59 sectors per track (u8)
//  60 disk type (2 fixed, 3 dynamic, 4 differencing)  64 checksum
const COOKIE = 'conectix';
const FOOTER = 512;
const TYPE_FIXED = 2;
const TYPE_DYNAMIC = 3;
const TYPE_DIFFERENCING = 4;
// Creators whose size QEMU takes from current_size rather than the CHS geometry.
const CURRENT_SIZE_CREATORS = ['vpc ', 'win ', 'qem2', 'd2v ', 'CTXS', 'tap\0'];
const MAX_CHS = 65535 * 16 * 255;

function checksumOk(f: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < FOOTER; i++) if (i < 64 || i >= 68) sum += f[i] ?? 0;
  return ~sum >>> 0 === f.readUInt32BE(64);
}

export class VhdProbe extends Probe {
  readonly format = 'vhd' as const;
  private size = 0;
  private tail: TailRegion | undefined;

  constructor() {
    super();
    this.capture(0, 8, (cookie) => {
      if (cookie.toString('latin1') !== COOKIE) {
        // Not a dynamic VHD; it may still be a fixed one, recognised by its trailer.
        this.tail = this.captureTail(FOOTER);
        return;
      }
      this.match();
      this.capture(8, FOOTER - 8, (rest) => this.footer(Buffer.concat([cookie, rest])));
    });
  }

  private footer(f: Buffer): void {
    const type = f.readUInt32BE(60);
    if (type === TYPE_DIFFERENCING) this.problem('VHD is a differencing disk (has a parent)');
    else if (type !== TYPE_FIXED && type !== TYPE_DYNAMIC)
      this.problem(`unknown VHD disk type ${type}`);
    const creator = f.toString('latin1', 28, 32);
    const chs = f.readUInt16BE(56) * (f[58] ?? 0) * (f[59] ?? 0);
    const current = u64(f.readBigUInt64BE(48));
    if (current === undefined) this.problem('VHD size is out of range');
    this.size =
      CURRENT_SIZE_CREATORS.includes(creator) || chs === MAX_CHS ? (current ?? 0) : chs * 512;
  }

  protected onFinish(total: number, incomplete: Region[]): void {
    if (this.state === 'match') {
      if (incomplete.length > 0) this.problem('VHD footer is truncated');
      return;
    }
    const t = this.tail?.data;
    // A fixed VHD: raw data followed by a valid footer of type "fixed".
    if (!t || t.length < FOOTER || total < 2 * FOOTER) return;
    if (t.toString('latin1', 0, 8) !== COOKIE || !checksumOk(t)) return;
    if (t.readUInt32BE(60) !== TYPE_FIXED) return;
    this.weak = true;
    this.match();
    this.footer(t);
  }

  virtualSize(): number {
    return this.size;
  }
}
