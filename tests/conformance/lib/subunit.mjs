// A reader (and, for tests, a writer) of the subunit v2 byte stream that `tempest run
// --subunit` writes. The format is the one python3-subunit implements (subunit/v2.py):
//
//   packet := 0xB3 FLAGS(16 bit BE) LENGTH(number, whole packet) [TIMESTAMP] [TEST_ID]
//             [TAGS] [MIME] [FILE_NAME FILE_LENGTH FILE_BYTES] [ROUTE_CODE] CRC32(BE)
//   number := 1–4 bytes; the top two bits of the first byte say how many follow
//   string := number (byte length) + UTF-8
//
// Anything that is not a well-formed packet (text a test printed to stdout, a torn tail)
// is skipped byte by byte until the next packet whose CRC matches, and counted.
import { crc32 } from 'node:zlib';

const SIGNATURE = 0xb3;
const FLAG_TEST_ID = 0x0800;
const FLAG_ROUTE_CODE = 0x0400;
const FLAG_TIMESTAMP = 0x0200;
const FLAG_RUNNABLE = 0x0100;
const FLAG_TAGS = 0x0080;
const FLAG_FILE_CONTENT = 0x0040;
const FLAG_MIME_TYPE = 0x0020;
const FLAG_EOF = 0x0010;
const VERSION_2 = 0x2000;

export const STATUSES = [
  undefined,
  'exists',
  'inprogress',
  'success',
  'uxsuccess',
  'skip',
  'fail',
  'xfail',
];

class Torn extends Error {}

/** Reads a subunit number at pos: { value, size }. Throws Torn past the end of buf. */
function readNumber(buf, pos, end = buf.length) {
  if (pos >= end) throw new Torn();
  const first = buf[pos];
  const size = (first >> 6) + 1;
  if (pos + size > end) throw new Torn();
  let value = first & 0x3f;
  for (let i = 1; i < size; i++) value = value * 256 + buf[pos + i];
  return { value, size };
}

function readString(buf, pos, end) {
  const { value: len, size } = readNumber(buf, pos, end);
  const start = pos + size;
  if (start + len > end) throw new Torn();
  return { value: buf.toString('utf8', start, start + len), next: start + len };
}

/**
 * Parses one packet at pos. Returns { packet, next }, { incomplete: true } when buf ends
 * before the packet does, or { bad: true } when the bytes at pos are not a valid packet.
 */
function parsePacketAt(buf, pos) {
  if (buf[pos] !== SIGNATURE) return { bad: true };
  if (pos + 4 > buf.length) return { incomplete: true };
  const flags = buf.readUInt16BE(pos + 1);
  if ((flags & 0xf000) !== VERSION_2) return { bad: true };
  let length;
  let headerEnd;
  try {
    const n = readNumber(buf, pos + 3);
    if (n.size > 3) return { bad: true };
    length = n.value;
    headerEnd = pos + 3 + n.size;
  } catch {
    return { incomplete: true };
  }
  // The smallest packet: signature, flags, a one-byte length and the CRC.
  if (length < 8) return { bad: true };
  if (pos + length > buf.length) return { incomplete: true };
  const end = pos + length - 4;
  if (crc32(buf.subarray(pos, end)) !== buf.readUInt32BE(end)) return { bad: true };

  const packet = {
    status: STATUSES[flags & 0x7],
    runnable: Boolean(flags & FLAG_RUNNABLE),
    eof: Boolean(flags & FLAG_EOF),
  };
  try {
    let p = headerEnd;
    if (flags & FLAG_TIMESTAMP) {
      if (p + 4 > end) throw new Torn();
      const seconds = buf.readUInt32BE(p);
      const nanos = readNumber(buf, p + 4, end);
      packet.timestamp = seconds + nanos.value / 1e9;
      p += 4 + nanos.size;
    }
    if (flags & FLAG_TEST_ID) ({ value: packet.testId, next: p } = readString(buf, p, end));
    if (flags & FLAG_TAGS) {
      const count = readNumber(buf, p, end);
      p += count.size;
      packet.tags = [];
      for (let i = 0; i < count.value; i++) {
        const tag = readString(buf, p, end);
        packet.tags.push(tag.value);
        p = tag.next;
      }
    }
    if (flags & FLAG_MIME_TYPE) ({ value: packet.mimeType, next: p } = readString(buf, p, end));
    if (flags & FLAG_FILE_CONTENT) {
      ({ value: packet.fileName, next: p } = readString(buf, p, end));
      const len = readNumber(buf, p, end);
      p += len.size;
      if (p + len.value > end) throw new Torn();
      packet.fileBytes = Buffer.from(buf.subarray(p, p + len.value));
      p += len.value;
    }
    if (flags & FLAG_ROUTE_CODE) ({ value: packet.routeCode, next: p } = readString(buf, p, end));
  } catch (err) {
    if (err instanceof Torn) return { bad: true }; // CRC matched but fields overrun: corrupt
    throw err;
  }
  return { packet, next: pos + length };
}

/**
 * An incremental parser: push() chunks as they arrive, get the complete packets back.
 * end() returns how many bytes were not part of any packet.
 */
export class SubunitParser {
  constructor() {
    this.pending = Buffer.alloc(0);
    this.skippedBytes = 0;
    this.packets = 0;
  }

  push(chunk) {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out = [];
    let pos = 0;
    while (pos < buf.length) {
      if (buf[pos] !== SIGNATURE) {
        const next = buf.indexOf(SIGNATURE, pos);
        const stop = next === -1 ? buf.length : next;
        this.skippedBytes += stop - pos;
        pos = stop;
        continue;
      }
      const r = parsePacketAt(buf, pos);
      if (r.incomplete) break;
      if (r.bad) {
        this.skippedBytes += 1;
        pos += 1;
        continue;
      }
      out.push(r.packet);
      this.packets += 1;
      pos = r.next;
    }
    this.pending = Buffer.from(buf.subarray(pos));
    return out;
  }

  /** Flushes: whatever is left can never become a packet. */
  end() {
    this.skippedBytes += this.pending.length;
    this.pending = Buffer.alloc(0);
    return this.skippedBytes;
  }
}

/** Parses a whole subunit v2 stream: { packets, skippedBytes }. */
export function parseSubunit(buf) {
  const parser = new SubunitParser();
  const packets = parser.push(Buffer.from(buf));
  const skippedBytes = parser.end();
  return { packets, skippedBytes };
}

function encodeNumber(value) {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`bad number ${value}`);
  if (value < 0x40) return Buffer.from([value]);
  if (value < 0x4000) return Buffer.from([0x40 | (value >> 8), value & 0xff]);
  if (value < 0x400000)
    return Buffer.from([0x80 | (value >> 16), (value >> 8) & 0xff, value & 0xff]);
  if (value < 0x40000000) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE((0xc0000000 | value) >>> 0);
    return b;
  }
  throw new RangeError(`number too large: ${value}`);
}

function encodeString(s) {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([encodeNumber(bytes.length), bytes]);
}

/**
 * Encodes one packet the way python3-subunit's StreamResultToBytes does. Used by the
 * tests to build streams; the harness itself only reads.
 */
export function encodePacket({
  testId,
  status,
  tags,
  runnable = true,
  fileName,
  fileBytes,
  mimeType,
  eof = false,
  routeCode,
  timestamp,
}) {
  let flags = VERSION_2;
  const parts = [];
  if (timestamp !== undefined) {
    flags |= FLAG_TIMESTAMP;
    const seconds = Math.floor(timestamp);
    const t = Buffer.alloc(4);
    t.writeUInt32BE(seconds);
    parts.push(t, encodeNumber(Math.round((timestamp - seconds) * 1e6) * 1000));
  }
  if (testId !== undefined) {
    flags |= FLAG_TEST_ID;
    parts.push(encodeString(testId));
  }
  if (tags?.length) {
    flags |= FLAG_TAGS;
    parts.push(encodeNumber(tags.length), ...tags.map(encodeString));
  }
  if (runnable) flags |= FLAG_RUNNABLE;
  if (mimeType) {
    flags |= FLAG_MIME_TYPE;
    parts.push(encodeString(mimeType));
  }
  if (fileName !== undefined) {
    flags |= FLAG_FILE_CONTENT;
    const bytes = Buffer.from(fileBytes ?? '');
    parts.push(encodeString(fileName), encodeNumber(bytes.length), bytes);
  }
  if (eof) flags |= FLAG_EOF;
  if (routeCode !== undefined) {
    flags |= FLAG_ROUTE_CODE;
    parts.push(encodeString(routeCode));
  }
  const code = STATUSES.indexOf(status);
  if (status !== undefined && code < 1) throw new Error(`unknown subunit status ${status}`);
  flags |= Math.max(code, 0);
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(3);
  head[0] = SIGNATURE;
  head.writeUInt16BE(flags, 1);
  const base = head.length + body.length + 4;
  const lengthSize = base <= 62 ? 1 : base <= 16381 ? 2 : base <= 4194300 ? 3 : 0;
  if (!lengthSize) throw new RangeError('packet too long');
  const content = Buffer.concat([head, encodeNumber(base + lengthSize), body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(content));
  return Buffer.concat([content, crc]);
}
