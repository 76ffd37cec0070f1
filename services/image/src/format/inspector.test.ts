import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  checkDiskFormat,
  ImageFormatMismatch,
  ImageInspector,
  inspectStream,
  UnsafeImage,
  type InspectionResult,
} from './index.js';
import { inspectAllWays, qcow2Header, sparseVmdk, VMDK_DESCRIPTOR } from './testing.js';

function isoImage(): Buffer {
  const img = Buffer.alloc(40 * 2048);
  const pvd = 16 * 2048;
  img[pvd] = 1;
  img.write('CD001', pvd + 1, 'latin1');
  img[pvd + 6] = 1;
  img.writeUInt32LE(40, pvd + 80);
  img.writeUInt32BE(40, pvd + 84);
  img.writeUInt16LE(2048, pvd + 128);
  img.writeUInt16BE(2048, pvd + 130);
  img[pvd + 2048] = 255; // set terminator
  img.write('CD001', pvd + 2049, 'latin1');
  // A hybrid ISO also carries an MBR in its system area.
  img.writeUInt16LE(0xaa55, 510);
  return img;
}

describe('format detection on crafted bytes', () => {
  it('treats a short file starting with the qcow2 magic as raw', () => {
    const data = Buffer.from('QFI\xfb\x00\x00\x00\x03 not really a header', 'latin1');
    const r = inspectAllWays(data);
    assert.deepEqual(r, {
      format: 'raw',
      virtualSize: data.length,
      actualSize: data.length,
      safetyProblems: [],
    });
  });

  it('detects a hand-written qcow2 header and its virtual size', () => {
    const r = inspectAllWays(Buffer.concat([qcow2Header(), Buffer.alloc(100_000)]));
    assert.equal(r.format, 'qcow2');
    assert.equal(r.virtualSize, 1 << 30);
    assert.equal(r.actualSize, 100_512);
    assert.deepEqual(r.safetyProblems, []);
  });

  it('flags a qcow2 header with backing_file_offset set', () => {
    const r = inspectAllWays(Buffer.concat([qcow2Header({ backing: 0x200n }), Buffer.alloc(4096)]));
    assert.equal(r.format, 'qcow2');
    assert.deepEqual(r.safetyProblems, ['qcow2 image has a backing file']);
    assert.throws(() => checkDiskFormat('qcow2', r), UnsafeImage);
  });

  it('flags the external data file bit and unknown incompatible features', () => {
    const dataFile = inspectAllWays(qcow2Header({ incompat: 1n << 2n }));
    assert.deepEqual(dataFile.safetyProblems, ['qcow2 image uses an external data file']);
    const unknown = inspectAllWays(qcow2Header({ incompat: 1n << 9n }));
    assert.deepEqual(unknown.safetyProblems, [
      'qcow2 image has unknown incompatible features 0x200',
    ]);
    const known = inspectAllWays(qcow2Header({ incompat: 0b11011n }));
    assert.deepEqual(known.safetyProblems, []);
  });

  it('flags qcow version 1', () => {
    const r = inspectAllWays(qcow2Header({ version: 1 }));
    assert.equal(r.format, 'qcow2');
    assert.ok(r.safetyProblems.includes('qcow version 1 images are not supported'));
  });

  it('flags a qcow2 header whose extensions were cut off by a truncated upload', () => {
    const r = inspectAllWays(qcow2Header().subarray(0, 104));
    assert.equal(r.format, 'qcow2');
    assert.deepEqual(r.safetyProblems, ['qcow2 header extensions could not be fully inspected']);
  });

  it('flags a VHDX whose metadata never arrived', () => {
    const data = Buffer.alloc(100_000);
    data.write('vhdxfile', 0, 'latin1');
    const r = inspectAllWays(data, [7, 4096]);
    assert.equal(r.format, 'vhdx');
    assert.deepEqual(r.safetyProblems, ['VHDX image is truncated before its metadata']);
  });

  it('calls random data raw', () => {
    const data = Buffer.alloc(300_000);
    let x = 0x12345678;
    for (let i = 0; i < data.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      data[i] = x >>> 24;
    }
    const r = inspectAllWays(data, [7, 4093, 65536]);
    assert.deepEqual(r, {
      format: 'raw',
      virtualSize: 300_000,
      actualSize: 300_000,
      safetyProblems: [],
    });
  });

  it('finds the ISO 9660 signature at offset 32769, even on a hybrid (MBR) image', () => {
    const img = isoImage();
    assert.equal(img.toString('latin1', 32769, 32774), 'CD001');
    const r = inspectAllWays(img, [1, 7, 2048, 65536]);
    assert.deepEqual(r, {
      format: 'iso',
      virtualSize: 40 * 2048,
      actualSize: 40 * 2048,
      safetyProblems: [],
    });
    checkDiskFormat('iso', r);
    assert.throws(() => checkDiskFormat('raw', r), ImageFormatMismatch);
  });

  it('does not call a stream iso when it ends before the volume descriptor', () => {
    const r = inspectAllWays(isoImage().subarray(0, 32770));
    assert.equal(r.format, 'raw');
  });

  it('flags an ISO whose volume is larger than what was uploaded', () => {
    const r = inspectAllWays(isoImage().subarray(0, 20 * 2048));
    assert.equal(r.format, 'iso');
    assert.deepEqual(r.safetyProblems, [
      `ISO volume claims ${40 * 2048} bytes but only ${20 * 2048} were read`,
    ]);
  });

  it('treats an MBR/GPT disk as raw and safe', () => {
    const disk = Buffer.alloc(64 * 1024);
    disk.writeUInt16LE(0xaa55, 510);
    disk[446 + 4] = 0xee;
    disk.write('EFI PART', 512, 'latin1');
    const r = inspectAllWays(disk);
    assert.equal(r.format, 'raw');
    assert.deepEqual(r.safetyProblems, []);
    checkDiskFormat('raw', r);
  });

  it('accepts a self-contained monolithicSparse VMDK', () => {
    const r = inspectAllWays(sparseVmdk(VMDK_DESCRIPTOR));
    assert.equal(r.format, 'vmdk');
    assert.equal(r.virtualSize, 2048 * 512);
    assert.deepEqual(r.safetyProblems, []);
  });

  it('refuses VMDK descriptors that reach outside the image', () => {
    const cases: Array<[string, string]> = [
      [
        VMDK_DESCRIPTOR.replace('SPARSE "disk.vmdk"', 'FLAT "/etc/passwd" 0'),
        'VMDK extent type flat is not allowed',
      ],
      [
        VMDK_DESCRIPTOR.replace('"disk.vmdk"', '"../other.vmdk"'),
        'VMDK extent file name contains a path',
      ],
      [
        VMDK_DESCRIPTOR + 'RW 2048 SPARSE "second.vmdk"\n',
        'VMDK descriptor lists 2 extents; only one is allowed',
      ],
      [
        VMDK_DESCRIPTOR.replace('monolithicSparse', 'monolithicFlat'),
        'VMDK createType monolithicflat is not allowed',
      ],
      [VMDK_DESCRIPTOR + 'parentFileNameHint="base.vmdk"\n', 'VMDK has a parent (backing) disk'],
      [
        VMDK_DESCRIPTOR + 'this is not a descriptor line\n',
        'VMDK descriptor has an unrecognised line',
      ],
    ];
    for (const [descriptor, problem] of cases) {
      const r = inspectAllWays(sparseVmdk(descriptor), [7, 512]);
      assert.equal(r.format, 'vmdk');
      assert.ok(
        r.safetyProblems.includes(problem),
        `${problem}: got ${r.safetyProblems.join('; ')}`,
      );
    }
  });

  it('refuses a zero-capacity sparse VMDK and an oversized descriptor', () => {
    const zero = inspectAllWays(sparseVmdk(VMDK_DESCRIPTOR, 0n), [7]);
    assert.ok(zero.safetyProblems.includes('VMDK sparse header has zero capacity'));
    const big = sparseVmdk(VMDK_DESCRIPTOR);
    big.writeBigUInt64LE(4096n, 36); // 2 MiB descriptor
    const r = inspectAllWays(big, [7]);
    assert.ok(r.safetyProblems.includes(`VMDK descriptor is larger than ${1024 * 1024} bytes`));
  });

  it('detects a descriptor-only VMDK and refuses it', () => {
    const text = VMDK_DESCRIPTOR.replace('monolithicSparse', 'monolithicFlat').replace(
      'SPARSE "disk.vmdk"',
      'FLAT "disk-flat.vmdk" 0',
    );
    const r = inspectAllWays(Buffer.from(text, 'latin1'));
    assert.equal(r.format, 'vmdk');
    assert.equal(r.virtualSize, 2048 * 512);
    assert.ok(r.safetyProblems.some((p) => p.startsWith('descriptor-only VMDK')));
  });

  it('calls ordinary text raw', () => {
    const r = inspectAllWays(Buffer.from('hello\nworld\n'.repeat(1000), 'latin1'));
    assert.equal(r.format, 'raw');
    assert.deepEqual(r.safetyProblems, []);
  });

  it('flags a QED image presented as raw', () => {
    const data = Buffer.alloc(4096);
    data.write('QED\0', 0, 'latin1');
    const r = inspectAllWays(data);
    assert.equal(r.format, 'raw');
    assert.deepEqual(r.safetyProblems, ['QED images are not allowed']);
  });

  it('reports a polyglot (qcow2 header plus ISO descriptor) as unsafe', () => {
    const img = isoImage();
    qcow2Header().copy(img, 0, 0, 512);
    const r = inspectAllWays(img, [7, 65536]);
    assert.equal(r.format, 'qcow2');
    assert.deepEqual(r.safetyProblems, ['content matches several formats: qcow2, iso']);
  });
});

describe('memory', () => {
  it('retains less than 1 MiB while a 64 MiB sparse stream goes by', () => {
    for (const head of [Buffer.alloc(0), qcow2Header(), sparseVmdk(VMDK_DESCRIPTOR)]) {
      const inspector = new ImageInspector();
      const zeros = Buffer.alloc(64 * 1024);
      inspector.push(head);
      let peak = inspector.retainedBytes;
      for (let i = 0; i < 1024; i++) {
        inspector.push(zeros);
        peak = Math.max(peak, inspector.retainedBytes);
      }
      const r = inspector.finish();
      assert.ok(peak < 1024 * 1024, `peak ${peak}`);
      assert.ok(peak < 128 * 1024, `peak ${peak} should be a few header regions`);
      assert.equal(r.actualSize, head.length + 64 * 1024 * 1024);
    }
  });
});

describe('inspectStream', () => {
  it('passes data through unchanged and reports at the end', async () => {
    const data = Buffer.concat([qcow2Header({ backing: 0x200n }), Buffer.alloc(70_000)]);
    const stream = inspectStream();
    const out: Buffer[] = [];
    await pipeline(
      Readable.from([data.subarray(0, 5), data.subarray(5, 600), data.subarray(600)]),
      stream,
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          out.push(chunk);
          cb();
        },
      }),
    );
    assert.deepEqual(Buffer.concat(out), data);
    const r = await stream.done;
    assert.equal(r, stream.result);
    assert.equal(r.format, 'qcow2');
    assert.deepEqual(r.safetyProblems, ['qcow2 image has a backing file']);
  });
});

describe('checkDiskFormat', () => {
  const result = (format: InspectionResult['format'], safetyProblems: string[] = []) => ({
    format,
    virtualSize: 1,
    actualSize: 1,
    safetyProblems,
  });

  it('accepts matching formats and raw for aki/ari/ami', () => {
    for (const f of ['raw', 'qcow2', 'vmdk', 'vhd', 'vhdx', 'vdi', 'iso'] as const) {
      checkDiskFormat(f, result(f));
    }
    for (const d of ['aki', 'ari', 'ami']) checkDiskFormat(d, result('raw'));
  });

  it('refuses a qcow2 uploaded as raw, and other mismatches', () => {
    const pairs: Array<[string, InspectionResult['format']]> = [
      ['raw', 'qcow2'],
      ['raw', 'vmdk'],
      ['qcow2', 'raw'],
      ['aki', 'qcow2'],
      ['iso', 'raw'],
      ['vhd', 'vhdx'],
      ['ploop', 'raw'],
    ];
    for (const [declared, detected] of pairs) {
      assert.throws(
        () => checkDiskFormat(declared, result(detected)),
        (err: unknown) => {
          assert.ok(err instanceof ImageFormatMismatch);
          assert.equal(err.status, 400);
          assert.equal(err.code, 'ImageFormatMismatch');
          assert.match(err.message, new RegExp(declared));
          return true;
        },
      );
    }
  });

  it('refuses images with safety problems, naming them', () => {
    assert.throws(
      () => checkDiskFormat('qcow2', result('qcow2', ['qcow2 image has a backing file'])),
      (err: unknown) => {
        assert.ok(err instanceof UnsafeImage);
        assert.equal(err.status, 400);
        assert.match(err.message, /backing file/);
        return true;
      },
    );
  });
});
