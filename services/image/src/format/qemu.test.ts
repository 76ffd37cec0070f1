import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { requirement, tempDir } from '@stratus/testkit';
import { checkDiskFormat, ImageFormatMismatch, inspectChunks, UnsafeImage } from './index.js';
import { inspectAllWays } from './testing.js';

const skip = await requirement(
  'qemu-img',
  () => {
    execFileSync('qemu-img', ['--version'], { stdio: 'ignore' });
  },
  'apt-get install qemu-utils',
);

function qemuImg(...args: string[]): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function qemuVirtualSize(path: string, format?: string): number {
  const info = JSON.parse(
    qemuImg('info', '--output=json', ...(format ? ['-f', format] : []), path),
  ) as { 'virtual-size': number };
  return info['virtual-size'];
}

describe('images made by qemu-img', { skip }, () => {
  const dir = tempDir(after, 'stratus-format-');
  const path = (name: string) => join(dir, name);

  const cases: Array<{
    name: string;
    format: string;
    make: (p: string) => void;
    qemuFormat?: string;
  }> = [
    { name: 'a.qcow2', format: 'qcow2', make: (p) => qemuImg('create', '-f', 'qcow2', p, '64M') },
    {
      name: 'v2.qcow2',
      format: 'qcow2',
      make: (p) => qemuImg('create', '-f', 'qcow2', '-o', 'compat=0.10', p, '10M'),
    },
    { name: 'a.vmdk', format: 'vmdk', make: (p) => qemuImg('create', '-f', 'vmdk', p, '40M') },
    {
      name: 'so.vmdk',
      format: 'vmdk',
      make: (p) => {
        const src = p + '.src';
        const data = Buffer.alloc(3 * 1024 * 1024 + 512);
        for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i, i);
        writeFileSync(src, data);
        qemuImg('convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', src, p);
      },
    },
    { name: 'a.vhd', format: 'vhd', make: (p) => qemuImg('create', '-f', 'vpc', p, '64M') },
    {
      name: 'fixed.vhd',
      format: 'vhd',
      qemuFormat: 'vpc',
      make: (p) => qemuImg('create', '-f', 'vpc', '-o', 'subformat=fixed', p, '3M'),
    },
    { name: 'a.vhdx', format: 'vhdx', make: (p) => qemuImg('create', '-f', 'vhdx', p, '100M') },
    { name: 'a.vdi', format: 'vdi', make: (p) => qemuImg('create', '-f', 'vdi', p, '50M') },
    { name: 'a.raw', format: 'raw', make: (p) => qemuImg('create', '-f', 'raw', p, '1M') },
  ];

  for (const c of cases) {
    it(`detects ${c.name} as ${c.format} with qemu-img's virtual size, whatever the chunking`, async () => {
      const p = path(c.name);
      c.make(p);
      const data = readFileSync(p);
      // 1-byte chunks on the first 256 KiB (all headers of small images), odd and
      // large chunks on the whole file.
      const sizes = data.length <= 256 * 1024 ? [1, 7, 65536] : [7, 4093, 65536];
      const r = inspectAllWays(data, sizes);
      assert.equal(r.format, c.format);
      assert.equal(r.actualSize, data.length);
      assert.equal(r.virtualSize, qemuVirtualSize(p, c.qemuFormat));
      assert.deepEqual(r.safetyProblems, []);
      assert.deepEqual(await inspectChunks(createReadStream(p)), r);
      checkDiskFormat(c.format, r);
      if (c.format !== 'raw') assert.throws(() => checkDiskFormat('raw', r), ImageFormatMismatch);
    });
  }

  it('refuses a qcow2 with a backing file', () => {
    qemuImg('create', '-f', 'qcow2', path('base.qcow2'), '16M');
    qemuImg(
      'create',
      '-f',
      'qcow2',
      '-b',
      path('base.qcow2'),
      '-F',
      'qcow2',
      path('overlay.qcow2'),
    );
    const r = inspectAllWays(readFileSync(path('overlay.qcow2')), [1, 7, 65536]);
    assert.equal(r.format, 'qcow2');
    assert.equal(r.virtualSize, qemuVirtualSize(path('overlay.qcow2')));
    assert.deepEqual(r.safetyProblems, ['qcow2 image has a backing file']);
    assert.throws(() => checkDiskFormat('qcow2', r), UnsafeImage);
    assert.throws(() => checkDiskFormat('raw', r), ImageFormatMismatch);
  });

  it('refuses a qcow2 with an external data file', () => {
    qemuImg(
      'create',
      '-f',
      'qcow2',
      '-o',
      `data_file=${path('data.raw')}`,
      path('ext.qcow2'),
      '8M',
    );
    const r = inspectAllWays(readFileSync(path('ext.qcow2')), [1, 7, 65536]);
    assert.equal(r.format, 'qcow2');
    assert.ok(r.safetyProblems.includes('qcow2 image uses an external data file'));
    assert.ok(r.safetyProblems.includes('qcow2 image names an external data file'));
    assert.throws(() => checkDiskFormat('qcow2', r), UnsafeImage);
  });

  for (const subformat of ['monolithicFlat', 'twoGbMaxExtentSparse']) {
    it(`refuses a ${subformat} VMDK descriptor and its extent files`, () => {
      const p = path(`${subformat}.vmdk`);
      qemuImg('create', '-f', 'vmdk', '-o', `subformat=${subformat}`, p, '10M');
      const r = inspectAllWays(readFileSync(p), [1, 7, 65536]);
      assert.equal(r.format, 'vmdk');
      assert.equal(r.virtualSize, qemuVirtualSize(p));
      assert.ok(
        r.safetyProblems.some((x) => x.startsWith('descriptor-only VMDK')),
        r.safetyProblems.join(),
      );
      assert.throws(() => checkDiskFormat('vmdk', r), UnsafeImage);
      if (subformat === 'twoGbMaxExtentSparse') {
        // The extent file itself is a sparse VMDK without a usable descriptor.
        const extent = inspectAllWays(readFileSync(path(`${subformat}-s001.vmdk`)), [7, 65536]);
        assert.equal(extent.format, 'vmdk');
        assert.ok(extent.safetyProblems.length > 0);
      }
    });
  }

  it('refuses a truncated qcow2 upload only when the header is cut', () => {
    qemuImg('create', '-f', 'qcow2', path('t.qcow2'), '1G');
    const data = readFileSync(path('t.qcow2'));
    const cut = inspectAllWays(data.subarray(0, 60));
    assert.equal(cut.format, 'raw');
    assert.throws(() => checkDiskFormat('qcow2', cut), ImageFormatMismatch);
    const partial = inspectAllWays(data.subarray(0, 70_000), [7, 65536]);
    assert.equal(partial.format, 'qcow2');
    assert.equal(partial.virtualSize, 1024 ** 3);
    assert.equal(partial.actualSize, 70_000);
  });
});
