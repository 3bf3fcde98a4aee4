/**
 * Reads the files a training config names (`data_root` + `ann_file`, `data_root` + `data_prefix.img`
 * + file name) from a dataset imported into the studio, whatever `data_root` the config uses: a
 * requested path is matched by its longest suffix that is a file of the dataset (relative to the
 * dataset root), and the converted COCO annotation jsons (kept with the dataset's record, not in its
 * folder) are served under their split's `ann_file`.
 */
import type { FileTree } from '../data/file_tree.ts';
import type { DatasetRecord } from '../storage/dataset_db.ts';

/** Reads one file by the path a config names. */
export type DatasetFileReader = (path: string) => Promise<Uint8Array>;

function clean(p: string): string {
  return p.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\/{2,}/g, '/').replace(/^\//, '');
}

/** A reader over a stored dataset's tree (see the module doc). */
export function importedDatasetReader(record: DatasetRecord, tree: FileTree): DatasetFileReader {
  const enc = new TextEncoder();
  const anns = new Map<string, Uint8Array | (() => Uint8Array)>();
  for (const split of record.splits) {
    let bytes: Uint8Array | undefined;
    anns.set(clean(split.annFile), () => (bytes ??= enc.encode(JSON.stringify(split.coco))));
  }
  const files = new Set(record.paths.map(clean));
  const root = clean(record.root);
  return async (path: string) => {
    const p = clean(path);
    // Longest suffix first: 'data/cityscapes/leftImg8bit/train/a/x.png' → 'leftImg8bit/train/a/x.png'.
    const starts = [0];
    for (let i = 0; i < p.length; i++) if (p[i] === '/') starts.push(i + 1);
    for (const start of starts) {
      const cand = p.slice(start);
      const ann = anns.get(cand);
      if (ann) return typeof ann === 'function' ? ann() : ann;
      if (files.has(cand)) return tree.read(root + cand);
    }
    throw new Error(
      `'${path}' matches no file of the dataset '${record.name}' (its files are relative to '${record.root || '.'}'; ` +
        `annotation files: ${[...anns.keys()].join(', ') || 'none'}). Check data_root, ann_file and data_prefix in the config.`,
    );
  };
}
