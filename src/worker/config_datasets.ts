/**
 * The imported datasets as the config editor's binding check sees them: a compact
 * {@link DatasetFacts} summary of the bundled demo (its manifest and annotation jsons, fetched) and
 * of every dataset stored in IndexedDB. Runs in the config worker (it reads whole annotation jsons,
 * which must not happen on the page's thread); summaries are cached per dataset and version, so a
 * reload after an import reads only the new dataset.
 */
import { datasetFacts, type DatasetFacts } from '../data/binding.ts';
import type { CocoJson } from '../data/coco_types.ts';
import type { DatasetRecord, DatasetSummary } from '../storage/dataset_db.ts';
import type { DemoManifest } from './dataset_tasks.ts';

/** The datasets database as far as the summary needs it. */
export interface DatasetFactsDb {
  list(): Promise<DatasetSummary[]>;
  get(id: string): Promise<DatasetRecord | undefined>;
  close(): void;
}

/** Where the datasets come from (the worker passes IndexedDB and `fetch`; tests pass fakes). */
export interface DatasetFactsEnv {
  /** Opens the datasets database; may reject when IndexedDB is unavailable. */
  openDb(): Promise<DatasetFactsDb>;
  fetch(url: string): Promise<Response>;
}

/** Loads (and caches) the summaries of the available datasets. */
export class DatasetFactsSource {
  private readonly cache = new Map<string, { stamp: string; facts: DatasetFacts }>();

  constructor(private readonly env: DatasetFactsEnv) {}

  /**
   * The demo datasets of `demoBaseUrl`'s manifest (when there is one) and every stored dataset.
   * A source that fails (no manifest, no IndexedDB, a broken record) is left out, never thrown.
   *
   * Args:
   *   demoBaseUrl: absolute URL of the bundled demo folder (`…/demo/`), `''` for none.
   */
  async load(demoBaseUrl: string): Promise<DatasetFacts[]> {
    const [demo, stored] = await Promise.all([this.demo(demoBaseUrl), this.stored()]);
    return [...demo, ...stored];
  }

  private async demo(demoBaseUrl: string): Promise<DatasetFacts[]> {
    if (!demoBaseUrl) return [];
    let manifest: DemoManifest;
    try {
      const res = await this.env.fetch(new URL('manifest.json', demoBaseUrl).href);
      if (!res.ok) return [];
      manifest = (await res.json()) as DemoManifest;
    } catch {
      return [];
    }
    const out: DatasetFacts[] = [];
    for (const d of manifest.datasets ?? []) {
      const stamp = `demo:${demoBaseUrl}:${d.splits.map((s) => `${s.annFile}:${s.images}:${s.annotations}`).join(',')}`;
      const hit = this.cache.get(d.id);
      if (hit?.stamp === stamp) {
        out.push(hit.facts);
        continue;
      }
      try {
        const base = new URL(d.root, demoBaseUrl).href;
        const annotations = new Map<string, CocoJson>();
        for (const s of d.splits) {
          const res = await this.env.fetch(new URL(s.annFile, base).href);
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          annotations.set(s.annFile, (await res.json()) as CocoJson);
        }
        const facts = datasetFacts(d.id, d.name, { paths: d.files, annotations });
        this.cache.set(d.id, { stamp, facts });
        out.push(facts);
      } catch {
        /* a demo without its annotations binds nothing */
      }
    }
    return out;
  }

  private async stored(): Promise<DatasetFacts[]> {
    let db: DatasetFactsDb;
    try {
      db = await this.env.openDb();
    } catch {
      return [];
    }
    try {
      const out: DatasetFacts[] = [];
      for (const s of await db.list()) {
        const stamp = `${s.createdAt}:${s.images}:${s.annotations}:${s.splits.join(',')}`;
        const hit = this.cache.get(s.id);
        if (hit?.stamp === stamp) {
          out.push(hit.facts);
          continue;
        }
        const r = await db.get(s.id);
        if (!r) continue;
        const facts = datasetFacts(r.id, r.name, { paths: r.paths, annotations: new Map(r.splits.map((x) => [x.annFile, x.coco])) });
        this.cache.set(s.id, { stamp, facts });
        out.push(facts);
      }
      return out;
    } catch {
      return [];
    } finally {
      db.close();
    }
  }
}
