/**
 * Writer of PyTorch `.pth` files in `torch.save`'s zip format: `<prefix>/data.pkl` (protocol 2),
 * `<prefix>/byteorder` (`little`), `<prefix>/data/<key>` (raw little-endian storages, 64-byte
 * aligned, keys in sorted order as torch writes them) and `<prefix>/version` (`3`). Readable by
 * `torch.load(weights_only=True)` and by {@link readPth}.
 */
import { tensorBytes, type TensorRecord } from './dtypes.ts';
import { Pickler } from './pickle_writer.ts';
import { concatBytes, writeZipParts, type ZipWriteEntry } from './zip.ts';

/** Options of {@link writePthParts}. */
export interface WritePthOptions {
  /** Archive name used as the record prefix (torch ≥ 2 uses `archive`). */
  recordPrefix?: string;
}

/**
 * Serialises `obj` as `torch.save(obj)` does (zip format) and returns the file as parts (tensor
 * data not copied): pass them to `new Blob(parts)` or {@link concatBytes}.
 */
export function writePthParts(obj: unknown, options: WritePthOptions = {}): Uint8Array[] {
  const prefix = options.recordPrefix ?? 'archive';
  if (!/^[^/\\]+$/.test(prefix)) throw new Error(`invalid record prefix '${prefix}'`);
  const storages = new Map<unknown, { key: string; tensor: TensorRecord }>();
  const pickler = new Pickler((t) => {
    let s = storages.get(t.data);
    if (!s) {
      s = { key: String(storages.size), tensor: t };
      storages.set(t.data, s);
    }
    return s.key;
  });
  const pkl = pickler.dump(obj);
  const enc = new TextEncoder();
  const records: ZipWriteEntry[] = [
    { name: `${prefix}/data.pkl`, data: pkl },
    { name: `${prefix}/byteorder`, data: enc.encode('little') },
  ];
  const sorted = [...storages.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const s of sorted) records.push({ name: `${prefix}/data/${s.key}`, data: tensorBytes(s.tensor.data) });
  records.push({ name: `${prefix}/version`, data: enc.encode('3\n') });
  return writeZipParts(records, 64);
}

/** {@link writePthParts} concatenated into one buffer. */
export function writePth(obj: unknown, options: WritePthOptions = {}): Uint8Array {
  return concatBytes(writePthParts(obj, options));
}

/**
 * The object MMDetection's `publish_model` leaves in a checkpoint: `{'meta': meta,
 * 'state_dict': OrderedDict}` (a `Map` is pickled as an `OrderedDict`).
 */
export function mmdetCheckpointObject(meta: unknown, stateDict: Map<string, TensorRecord>): Record<string, unknown> {
  return { meta: meta ?? {}, state_dict: stateDict };
}
