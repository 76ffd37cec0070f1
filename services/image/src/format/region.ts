/**
 * Byte ranges of a stream that an inspector wants to keep. Memory is allocated only
 * when the first byte of a range arrives and is released as soon as its owner has
 * parsed it, so an inspector holds a few header regions, never the image.
 */

export class Region {
  readonly end: number;
  private buf: Buffer | undefined;
  private filled = 0;
  /** Set once the owner has been told that the region is complete. */
  notified = false;

  constructor(
    readonly offset: number,
    readonly length: number,
    readonly onComplete: (data: Buffer) => void,
  ) {
    this.end = offset + length;
  }

  get complete(): boolean {
    return this.filled === this.length;
  }

  /** The bytes captured so far (all of them once complete). */
  get data(): Buffer {
    return this.buf ? this.buf.subarray(0, this.filled) : Buffer.alloc(0);
  }

  get retained(): number {
    return this.buf?.length ?? 0;
  }

  /** Offers the bytes of `chunk`, which start at absolute stream position `start`. */
  write(chunk: Buffer, start: number): void {
    const from = Math.max(start, this.offset + this.filled);
    const to = Math.min(start + chunk.length, this.end);
    if (to <= from) return;
    this.buf ??= Buffer.alloc(this.length);
    chunk.copy(this.buf, from - this.offset, from - start, to - start);
    this.filled = to - this.offset;
  }

  release(): void {
    this.buf = undefined;
  }
}

/** Keeps the last `length` bytes of the stream (footers), in a ring buffer. */
export class TailRegion {
  private readonly ring: Buffer;
  private written = 0;

  constructor(readonly length: number) {
    this.ring = Buffer.alloc(length);
  }

  get retained(): number {
    return this.ring.length;
  }

  write(chunk: Buffer): void {
    const n = this.length;
    let src = chunk;
    if (src.length > n) {
      this.written += src.length - n;
      src = src.subarray(src.length - n);
    }
    let at = this.written % n;
    let off = 0;
    while (off < src.length) {
      const take = Math.min(n - at, src.length - off);
      src.copy(this.ring, at, off, off + take);
      off += take;
      at = (at + take) % n;
    }
    this.written += src.length;
  }

  /** The last `length` bytes in stream order, or fewer if the stream was shorter. */
  get data(): Buffer {
    const n = this.length;
    if (this.written < n) return Buffer.from(this.ring.subarray(0, this.written));
    const at = this.written % n;
    return Buffer.concat([this.ring.subarray(at), this.ring.subarray(0, at)]);
  }
}
