/**
 * Minimal ZIP container reading and writing as PyTorch's `PyTorchStreamReader`/`Writer` (miniz)
 * use it: records are STORED (uncompressed) and their data is aligned to 64 bytes with an `FB`
 * padding extra field, so tensor bytes can be viewed in place. Reading handles any record names,
 * DEFLATE entries (through fflate, a copy) and ZIP64 directories; writing emits STORED records
 * with sizes in the local headers (no data descriptors).
 *
 * @see https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT
 */
import { inflateSync } from 'fflate';
import { CheckpointError } from './errors.ts';

/** One entry of a zip's central directory. */
export interface ZipEntry {
  name: string;
  /** 0 = STORED, 8 = DEFLATE. */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Offset of the local file header. */
  localHeaderOffset: number;
  /** Offset of the entry's (possibly compressed) data, from the local header. */
  dataOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOC = 0x07064b50;

/** Whether `bytes` starts like a zip file (a local header or an empty archive's end record). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5);
}

/** A parsed zip archive over a byte buffer; entry data is read lazily. */
export class ZipArchive {
  /** Entries in central-directory order. */
  readonly entries: ZipEntry[];
  private readonly byName: Map<string, ZipEntry>;

  /**
   * Parses the central directory.
   *
   * @throws CheckpointError when the end record is missing (truncated file), or the directory is
   *   inconsistent with the file size.
   */
  constructor(readonly bytes: Uint8Array) {
    this.entries = readCentralDirectory(bytes);
    this.byName = new Map(this.entries.map((e) => [e.name, e]));
  }

  /** The entry with this exact name, if present. */
  get(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /**
   * The uncompressed bytes of an entry: a view into the archive buffer for STORED entries (no
   * copy), an inflated copy for DEFLATE ones.
   *
   * @param verifyCrc Also check the CRC-32 (costs a pass over the data).
   */
  read(entry: ZipEntry, verifyCrc = false): Uint8Array {
    const { bytes } = this;
    const end = entry.dataOffset + entry.compressedSize;
    if (end > bytes.byteLength) {
      throw new CheckpointError(
        `zip record '${entry.name}' ends at byte ${end} but the file has ${bytes.byteLength} bytes: the file is truncated`,
      );
    }
    let out: Uint8Array;
    if (entry.method === 0) {
      out = bytes.subarray(entry.dataOffset, end);
    } else if (entry.method === 8) {
      out = inflateSync(bytes.subarray(entry.dataOffset, end), { out: new Uint8Array(entry.size) });
    } else {
      throw new CheckpointError(`zip record '${entry.name}' uses compression method ${entry.method}; only STORED and DEFLATE are supported`);
    }
    if (out.byteLength !== entry.size) {
      throw new CheckpointError(`zip record '${entry.name}': expected ${entry.size} bytes, got ${out.byteLength}`);
    }
    if (verifyCrc && crc32(out) !== entry.crc32) {
      throw new CheckpointError(`zip record '${entry.name}' is corrupt (CRC-32 mismatch)`);
    }
    return out;
  }
}

function readCentralDirectory(bytes: Uint8Array): ZipEntry[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength;
  let eocd = -1;
  for (let i = n - 22; i >= Math.max(0, n - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new CheckpointError(
      'zip end-of-central-directory record not found: the file is truncated (an incomplete download or save?) or is not a zip',
    );
  }
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (eocd >= 20 && dv.getUint32(eocd - 20, true) === SIG_EOCD64_LOC) {
    const off64 = Number(dv.getBigUint64(eocd - 20 + 8, true));
    if (off64 + 56 > n || dv.getUint32(off64, true) !== SIG_EOCD64) throw new CheckpointError('zip64 end record is corrupt');
    count = Number(dv.getBigUint64(off64 + 32, true));
    cdSize = Number(dv.getBigUint64(off64 + 40, true));
    cdOffset = Number(dv.getBigUint64(off64 + 48, true));
  }
  if (cdOffset + cdSize > n) {
    throw new CheckpointError(`zip central directory [${cdOffset}, ${cdOffset + cdSize}) lies outside the ${n}-byte file: truncated or corrupt`);
  }
  const dec = new TextDecoder();
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > n || dv.getUint32(p, true) !== SIG_CENTRAL) throw new CheckpointError(`zip central directory entry ${k} is corrupt`);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > n) throw new CheckpointError(`zip central directory entry ${k} is corrupt`);
    const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extended information: fields present only for those saturated in the fixed header.
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        if (e + 4 + len > eEnd) throw new CheckpointError(`zip record '${name}': corrupt ZIP64 extra field`);
        let q = e + 4;
        const u64 = (): number => {
          if (q + 8 > e + 4 + len) throw new CheckpointError(`zip record '${name}': corrupt ZIP64 extra field`);
          const v = Number(dv.getBigUint64(q, true));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = u64();
        if (compressedSize === 0xffffffff) compressedSize = u64();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64();
      }
      e += 4 + len;
    }
    if (localHeaderOffset + 30 > n || dv.getUint32(localHeaderOffset, true) !== SIG_LOCAL) {
      throw new CheckpointError(`zip record '${name}': local header missing at offset ${localHeaderOffset} (truncated or corrupt)`);
    }
    const dataOffset =
      localHeaderOffset + 30 + dv.getUint16(localHeaderOffset + 26, true) + dv.getUint16(localHeaderOffset + 28, true);
    entries.push({ name, method, crc32: crc, compressedSize, size, localHeaderOffset, dataOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

const CRC_TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let s = 1; s < 8; s++) t[s * 256 + i] = (t[(s - 1) * 256 + i]! >>> 8) ^ t[t[(s - 1) * 256 + i]! & 0xff]!;
  }
  return t;
})();

/** CRC-32 (IEEE, as zip uses) of `data`, optionally continuing from a previous value. */
export function crc32(data: Uint8Array, previous = 0): number {
  const t = CRC_TABLES;
  let c = ~previous >>> 0;
  let i = 0;
  const n = data.length;
  for (; i + 8 <= n; i += 8) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c =
      t[7 * 256 + (c & 0xff)]! ^
      t[6 * 256 + ((c >>> 8) & 0xff)]! ^
      t[5 * 256 + ((c >>> 16) & 0xff)]! ^
      t[4 * 256 + (c >>> 24)]! ^
      t[3 * 256 + data[i + 4]!]! ^
      t[2 * 256 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
  }
  for (; i < n; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** A record to write. */
export interface ZipWriteEntry {
  name: string;
  data: Uint8Array;
}

/**
 * Writes STORED records with each record's data aligned to `alignment` bytes (PyTorch uses 64),
 * padding with an `FB` extra field as PyTorch's writer does. Returns the file as parts (headers
 * and the entries' own data buffers, not copied) to concatenate or hand to a `Blob`.
 *
 * @throws CheckpointError when the archive would need ZIP64 (over 4 GiB or 65535 records).
 */
export function writeZipParts(entries: readonly ZipWriteEntry[], alignment = 64): Uint8Array[] {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  if (entries.length > 0xfffe) throw new CheckpointError('too many zip records (ZIP64 is not written)');
  for (const entry of entries) {
    const name = enc.encode(entry.name);
    const base = offset + 30 + name.length + 4;
    const pad = (alignment - (base % alignment)) % alignment;
    const extraLen = 4 + pad;
    const crc = crc32(entry.data);
    const size = entry.data.byteLength;
    if (offset + 30 + name.length + extraLen + size > 0xfffffffe) {
      throw new CheckpointError('checkpoint larger than 4 GiB: ZIP64 output is not supported');
    }
    const utf8Flag = name.length !== entry.name.length ? 0x0800 : 0;
    const lh = new Uint8Array(30 + name.length + extraLen);
    const l = new DataView(lh.buffer);
    l.setUint32(0, SIG_LOCAL, true);
    l.setUint16(4, 20, true); // version needed
    l.setUint16(6, utf8Flag, true);
    l.setUint16(8, 0, true); // STORED
    l.setUint16(10, 0, true); // time
    l.setUint16(12, 0x21, true); // date 1980-01-01
    l.setUint32(14, crc, true);
    l.setUint32(18, size, true);
    l.setUint32(22, size, true);
    l.setUint16(26, name.length, true);
    l.setUint16(28, extraLen, true);
    lh.set(name, 30);
    l.setUint16(30 + name.length, 0x4246, true); // 'FB'
    l.setUint16(32 + name.length, pad, true);
    lh.fill(0x5a, 34 + name.length); // 'Z' padding, as PyTorch
    parts.push(lh, entry.data);

    const ch = new Uint8Array(46 + name.length);
    const c = new DataView(ch.buffer);
    c.setUint32(0, SIG_CENTRAL, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint16(8, utf8Flag, true);
    c.setUint16(10, 0, true);
    c.setUint16(12, 0, true);
    c.setUint16(14, 0x21, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, size, true);
    c.setUint32(24, size, true);
    c.setUint16(28, name.length, true);
    c.setUint32(42, offset, true);
    ch.set(name, 46);
    central.push(ch);
    offset += lh.length + size;
  }
  const cdOffset = offset;
  let cdSize = 0;
  for (const ch of central) {
    parts.push(ch);
    cdSize += ch.length;
  }
  const end = new Uint8Array(22);
  const d = new DataView(end.buffer);
  d.setUint32(0, SIG_EOCD, true);
  d.setUint16(8, entries.length, true);
  d.setUint16(10, entries.length, true);
  d.setUint32(12, cdSize, true);
  d.setUint32(16, cdOffset, true);
  parts.push(end);
  return parts;
}

/** Concatenates byte arrays into one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
