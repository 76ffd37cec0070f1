import { Transform, type TransformCallback } from 'node:stream';
import { IsoProbe } from './iso.js';
import type { Probe } from './probe.js';
import { Qcow2Probe } from './qcow2.js';
import type { InspectionResult } from './types.js';
import { VdiProbe } from './vdi.js';
import { VhdProbe } from './vhd.js';
import { VhdxProbe } from './vhdx.js';
import { VmdkProbe } from './vmdk.js';

const QED_MAGIC = 'QED\0';

/**
 * Detects the format of a disk image as it streams by, keeping only the header
 * regions each format needs. Feed every chunk with `push`, then call `finish` once.
 * It never throws on content: anything odd becomes a safety problem.
 *
 * Detection follows oslo.utils' format_inspector (OSSA-2024-001): every format is
 * inspected in parallel; a format matches only when its signature and the header
 * QEMU would need are present; the most specific match wins and content nobody
 * recognises is raw. Several matches at once are reported as a problem.
 */
export class ImageInspector {
  private readonly probes: Probe[] = [
    new Qcow2Probe(),
    new VmdkProbe(),
    new VhdxProbe(),
    new VhdProbe(),
    new VdiProbe(),
    new IsoProbe(),
  ];
  private readonly head = Buffer.alloc(4);
  private total = 0;
  private result: InspectionResult | undefined;
  private readonly errors: string[] = [];

  /** Number of bytes seen so far. */
  get position(): number {
    return this.total;
  }

  /** Bytes the inspector currently holds in memory (for auditing; stays small). */
  get retainedBytes(): number {
    let n = this.head.length;
    for (const p of this.probes) n += p.retained;
    return n;
  }

  push(chunk: Uint8Array): void {
    if (this.result) throw new Error('ImageInspector.push called after finish');
    if (chunk.length === 0) return;
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.total < this.head.length) {
      buf.copy(this.head, this.total, 0, Math.min(buf.length, this.head.length - this.total));
    }
    for (const probe of this.probes) {
      try {
        probe.feed(buf, this.total);
      } catch (err) {
        this.errors.push(`${probe.format} inspection failed: ${(err as Error).message}`);
        probe.state = 'no';
      }
    }
    this.total += buf.length;
  }

  finish(): InspectionResult {
    if (this.result) return this.result;
    for (const probe of this.probes) {
      try {
        probe.finish(this.total);
      } catch (err) {
        this.errors.push(`${probe.format} inspection failed: ${(err as Error).message}`);
        probe.state = 'no';
      }
    }
    const matches = this.probes.filter((p) => p.state === 'match');
    const strong = matches.filter((p) => !p.weak);
    const chosen = (strong.length > 0 ? strong : matches)[0];
    const problems = [...this.errors];
    if (!chosen) {
      if (this.total >= 4 && this.head.toString('latin1') === QED_MAGIC) {
        problems.push('QED images are not allowed');
      }
      this.result = {
        format: 'raw',
        virtualSize: this.total,
        actualSize: this.total,
        safetyProblems: problems,
      };
    } else {
      if (strong.length > 1) {
        problems.push(`content matches several formats: ${strong.map((p) => p.format).join(', ')}`);
      }
      problems.push(...chosen.problems);
      this.result = {
        format: chosen.format,
        virtualSize: chosen.virtualSize(this.total),
        actualSize: this.total,
        safetyProblems: problems,
      };
    }
    return this.result;
  }
}

/**
 * A pass-through stream that inspects what flows through it. `result` is set when the
 * stream has flushed (after 'finish'); `done` resolves with it.
 */
export class InspectingStream extends Transform {
  readonly inspector = new ImageInspector();
  result: InspectionResult | undefined;
  readonly done: Promise<InspectionResult>;
  private resolveDone!: (r: InspectionResult) => void;

  constructor() {
    super();
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.inspector.push(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.result = this.inspector.finish();
    this.resolveDone(this.result);
    callback();
  }
}

/** A pass-through Transform that inspects the image streaming through it. */
export function inspectStream(): InspectingStream {
  return new InspectingStream();
}

/** Inspects every chunk of an (async) iterable, e.g. a file read stream. */
export async function inspectChunks(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<InspectionResult> {
  const inspector = new ImageInspector();
  for await (const chunk of source) inspector.push(chunk);
  return inspector.finish();
}
