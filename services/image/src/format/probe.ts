import { Region, TailRegion } from './region.js';
import type { ImageFormat } from './types.js';

export type ProbeState = 'pending' | 'match' | 'no';

/**
 * One format's inspector. It asks for byte regions; when a region is complete its
 * callback parses it and may ask for further regions. Chunks are cut at region ends,
 * so a callback always runs before any later byte is seen: results never depend on
 * how the stream was chunked. A region asked for after its start has passed can
 * never be filled, which is reported as a problem (again independent of chunking).
 */
export abstract class Probe {
  abstract readonly format: Exclude<ImageFormat, 'raw'>;
  state: ProbeState = 'pending';
  /** True when the match rests on a trailer only (weaker than a leading signature). */
  weak = false;
  readonly problems: string[] = [];
  private regions: Region[] = [];
  private tails: TailRegion[] = [];
  /** Absolute position of the next byte this probe has not seen. */
  protected pos = 0;

  protected capture(offset: number, length: number, onComplete: (data: Buffer) => void): Region {
    const region = new Region(offset, length, onComplete);
    if (offset < this.pos) {
      this.problem(`${this.format} structure at offset ${offset} lies before data already read`);
      return region;
    }
    this.regions.push(region);
    return region;
  }

  protected captureTail(length: number): TailRegion {
    const tail = new TailRegion(length);
    this.tails.push(tail);
    return tail;
  }

  protected problem(message: string): void {
    if (!this.problems.includes(message)) this.problems.push(message);
  }

  /** Excludes this format: the content cannot be it. Drops every buffer. */
  protected reject(): void {
    this.state = 'no';
    this.regions = [];
    this.tails = [];
  }

  /** Callbacks may reject the probe; read the state through a call so TS does not narrow it. */
  rejected(): boolean {
    return this.state === 'no';
  }

  protected match(): void {
    if (this.state === 'pending') this.state = 'match';
  }

  /** Called for every slice while the probe is live (for byte-class checks). */
  protected scan(_slice: Buffer, _start: number): void {}

  feed(chunk: Buffer, start: number): void {
    if (this.state === 'no') return;
    const chunkEnd = start + chunk.length;
    this.pos = start;
    while (this.pos < chunkEnd && !this.rejected()) {
      let stop = chunkEnd;
      for (const r of this.regions) {
        if (!r.complete && r.end > this.pos && r.end < stop) stop = r.end;
      }
      const slice = chunk.subarray(this.pos - start, stop - start);
      const at = this.pos;
      this.scan(slice, at);
      for (const tail of this.tails) tail.write(slice);
      for (const r of this.regions) if (!r.complete) r.write(slice, at);
      this.pos = stop;
      // Callbacks may add regions (or reject); iterate over a snapshot.
      for (const r of [...this.regions]) {
        if (r.complete && !r.notified && !this.rejected()) {
          r.notified = true;
          r.onComplete(r.data);
          r.release();
        }
      }
      this.regions = this.regions.filter((r) => !r.notified);
    }
  }

  /** End of stream: decide, and report what could not be inspected. */
  finish(total: number): void {
    if (this.state === 'no') return;
    this.onFinish(total, this.regions, this.tails);
    this.regions = [];
    if (this.state === 'pending') this.state = 'no';
  }

  protected abstract onFinish(total: number, incomplete: Region[], tails: TailRegion[]): void;

  abstract virtualSize(total: number): number;

  get retained(): number {
    let n = 0;
    for (const r of this.regions) n += r.retained;
    for (const t of this.tails) n += t.retained;
    return n;
  }
}

/** Reads an unsigned 64-bit field as a number, or undefined when it exceeds 2^53. */
export function u64(value: bigint): number | undefined {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}

/** A Microsoft GUID (first three fields little-endian) in canonical upper-case form. */
export function msGuid(buf: Buffer, at: number): string {
  const hex = (b: Buffer) => b.toString('hex').toUpperCase();
  const a = buf.readUInt32LE(at).toString(16).padStart(8, '0');
  const b = buf
    .readUInt16LE(at + 4)
    .toString(16)
    .padStart(4, '0');
  const c = buf
    .readUInt16LE(at + 6)
    .toString(16)
    .padStart(4, '0');
  const d = hex(buf.subarray(at + 8, at + 10));
  const e = hex(buf.subarray(at + 10, at + 16));
  return `${a}-${b}-${c}-${d}-${e}`.toUpperCase();
}
