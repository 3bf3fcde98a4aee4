/**
 * Locates the shared reference fixtures (`../shared/fixtures` beside the checkout). Tests read them
 * from there and never copy them; a missing fixture fails loudly rather than skipping.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** Absolute path of the repository root. */
export const repoRoot = resolve(here, '..', '..');
/** Absolute path of `../shared/fixtures`, overridable with DETSTUDIO_FIXTURES. */
export const fixturesRoot = process.env.DETSTUDIO_FIXTURES ?? resolve(repoRoot, '..', 'shared', 'fixtures');

/** Path of a fixture file or folder; throws if it does not exist. */
export function fixturePath(...parts: string[]): string {
  const p = join(fixturesRoot, ...parts);
  if (!existsSync(p)) {
    throw new Error(`fixture missing: ${p} (the shared fixtures must sit at ../shared/fixtures beside the checkout)`);
  }
  return p;
}

/** Reads and parses a JSON fixture. */
export function readFixtureJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFileSync(fixturePath(...parts), 'utf8')) as T;
}

/** Reads a binary fixture as bytes. */
export function readFixtureBytes(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(...parts)));
}

/**
 * A `CityscapesDataset` config over the fixture's converted train split (the images under
 * `cityscapes/leftImg8bit/train/`, MMDetection's training filter), with the given pipeline.
 */
export function cityscapesFixtureTrainDataset(pipeline: Array<Record<string, unknown>>): Record<string, unknown> {
  return {
    type: 'CityscapesDataset',
    data_root: `${fixturePath('cityscapes')}/`,
    ann_file: 'instancesonly_filtered_gtFine_train.json',
    data_prefix: { img: 'cityscapes/leftImg8bit/train/' },
    filter_cfg: { filter_empty_gt: true, min_size: 32 },
    pipeline,
  };
}
