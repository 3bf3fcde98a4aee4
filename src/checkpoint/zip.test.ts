import { describe, expect, it } from 'vitest';
import { concatBytes, crc32, writeZipParts, ZipArchive } from './zip.ts';

describe('zip', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const a = new TextEncoder().encode('hello, ');
    const b = new TextEncoder().encode('world and more bytes');
    expect(crc32(b, crc32(a))).toBe(crc32(concatBytes([a, b])));
  });

  it('writes aligned STORED records that it reads back in place', () => {
    const data = new Uint8Array(100).map((_, i) => i);
    const zip = concatBytes(writeZipParts([
      { name: 'a/data.pkl', data: new Uint8Array([1, 2, 3]) },
      { name: 'a/data/0', data },
      { name: 'a/ünïcode', data: new Uint8Array(0) },
    ]));
    const z = new ZipArchive(zip);
    expect(z.entries.map((e) => e.name)).toEqual(['a/data.pkl', 'a/data/0', 'a/ünïcode']);
    for (const e of z.entries) expect(e.dataOffset % 64).toBe(0);
    const got = z.read(z.get('a/data/0')!, true);
    expect(got.buffer).toBe(zip.buffer);
    expect(Array.from(got)).toEqual(Array.from(data));
  });

  it('reads ZIP64 end records and extended sizes', () => {
    const enc = new TextEncoder();
    const name = enc.encode('archive/x');
    const body = enc.encode('abc');
    const crc = crc32(body);
    const local = new Uint8Array(30 + name.length + 20);
    let d = new DataView(local.buffer);
    d.setUint32(0, 0x04034b50, true);
    d.setUint16(4, 45, true);
    d.setUint32(14, crc, true);
    d.setUint32(18, 0xffffffff, true);
    d.setUint32(22, 0xffffffff, true);
    d.setUint16(26, name.length, true);
    d.setUint16(28, 20, true);
    local.set(name, 30);
    d.setUint16(30 + name.length, 1, true);
    d.setUint16(32 + name.length, 16, true);
    d.setBigUint64(34 + name.length, 3n, true);
    d.setBigUint64(42 + name.length, 3n, true);
    const central = new Uint8Array(46 + name.length + 28);
    d = new DataView(central.buffer);
    d.setUint32(0, 0x02014b50, true);
    d.setUint32(16, crc, true);
    d.setUint32(20, 0xffffffff, true);
    d.setUint32(24, 0xffffffff, true);
    d.setUint16(28, name.length, true);
    d.setUint16(30, 28, true);
    d.setUint32(42, 0xffffffff, true);
    central.set(name, 46);
    d.setUint16(46 + name.length, 1, true);
    d.setUint16(48 + name.length, 24, true);
    d.setBigUint64(50 + name.length, 3n, true); // uncompressed
    d.setBigUint64(58 + name.length, 3n, true); // compressed
    d.setBigUint64(66 + name.length, 0n, true); // local header offset
    const cdOffset = local.length + body.length;
    const eocd64 = new Uint8Array(56);
    d = new DataView(eocd64.buffer);
    d.setUint32(0, 0x06064b50, true);
    d.setBigUint64(4, 44n, true);
    d.setBigUint64(24, 1n, true);
    d.setBigUint64(32, 1n, true);
    d.setBigUint64(40, BigInt(central.length), true);
    d.setBigUint64(48, BigInt(cdOffset), true);
    const locator = new Uint8Array(20);
    d = new DataView(locator.buffer);
    d.setUint32(0, 0x07064b50, true);
    d.setBigUint64(8, BigInt(cdOffset + central.length), true);
    d.setUint32(16, 1, true);
    const eocd = new Uint8Array(22);
    d = new DataView(eocd.buffer);
    d.setUint32(0, 0x06054b50, true);
    d.setUint16(8, 0xffff, true);
    d.setUint16(10, 0xffff, true);
    d.setUint32(12, 0xffffffff, true);
    d.setUint32(16, 0xffffffff, true);
    const z = new ZipArchive(concatBytes([local, body, central, eocd64, locator, eocd]));
    expect(z.entries).toHaveLength(1);
    expect(z.entries[0]!.size).toBe(3);
    expect(new TextDecoder().decode(z.read(z.entries[0]!, true))).toBe('abc');
  });
});
