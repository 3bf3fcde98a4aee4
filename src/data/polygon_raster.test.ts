import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.ts';
import { decodePng } from './png.ts';
import { fillPolygon, polygonsToInstanceIds, polygonsToLabelIds, UnknownLabelError, type Raster } from './polygon_raster.ts';

const gtRoot = fixturePath('cityscapes', 'cityscapes', 'gtFine');
const stems: string[] = [];
for (const split of readdirSync(gtRoot)) {
  for (const city of readdirSync(`${gtRoot}/${split}`)) {
    for (const f of readdirSync(`${gtRoot}/${split}/${city}`)) {
      if (f.endsWith('_gtFine_polygons.json')) stems.push(`${split}/${city}/${f.replace('_gtFine_polygons.json', '')}`);
    }
  }
}

describe('cityscapesScripts rasterisation (Pillow polygon fill)', () => {
  it('finds the fixture polygon files', () => {
    expect(stems.length).toBe(12);
  });
  it.each(stems)('%s: instanceIds and labelIds equal the fixture PNGs pixel for pixel', (stem) => {
    const base = `${gtRoot}/${stem}_gtFine_`;
    const ann = JSON.parse(readFileSync(`${base}polygons.json`, 'utf8'));
    const ids = polygonsToInstanceIds(ann);
    const refIds = decodePng(new Uint8Array(readFileSync(`${base}instanceIds.png`))).data;
    expect(refIds.length).toBe(ids.length);
    let diff = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] !== refIds[i]) diff++;
    expect(diff).toBe(0);
    const labels = polygonsToLabelIds(ann);
    const refLabels = decodePng(new Uint8Array(readFileSync(`${base}labelIds.png`))).data;
    diff = 0;
    for (let i = 0; i < labels.length; i++) if (labels[i] !== refLabels[i]) diff++;
    expect(diff).toBe(0);
  });

  it('fills a rectangle including its boundary and clips outside points', () => {
    const r: Raster = { width: 8, height: 6, data: new Uint8Array(48) };
    fillPolygon(r, [[-2, 1], [3, 1], [3, 3], [-2, 3]], 5);
    const rows = [];
    for (let y = 0; y < 6; y++) rows.push(Array.from(r.data.subarray(y * 8, y * 8 + 8)).join(''));
    expect(rows).toEqual(['00000000', '55550000', '55550000', '55550000', '00000000', '00000000']);
  });

  it('skips deleted objects, numbers instances per label, groups keep the bare id, license plate is not drawn', () => {
    const ann = {
      imgWidth: 10,
      imgHeight: 4,
      objects: [
        { label: 'car', polygon: [[0, 0], [1, 0], [1, 1], [0, 1]] as Array<[number, number]>, deleted: 1 },
        { label: 'car', polygon: [[0, 0], [1, 0], [1, 1], [0, 1]] as Array<[number, number]> },
        { label: 'car', polygon: [[3, 0], [4, 0], [4, 1], [3, 1]] as Array<[number, number]> },
        { label: 'cargroup', polygon: [[6, 0], [7, 0], [7, 1], [6, 1]] as Array<[number, number]> },
        { label: 'license plate', polygon: [[3, 0], [4, 0], [4, 1], [3, 1]] as Array<[number, number]> },
      ],
    };
    const ids = polygonsToInstanceIds(ann);
    expect(ids[0]).toBe(26000);
    expect(ids[3]).toBe(26001);
    expect(ids[6]).toBe(26);
    expect(() => polygonsToInstanceIds({ ...ann, objects: [{ label: 'spaceship', polygon: [[0, 0], [1, 1], [0, 1]] }] })).toThrow(
      UnknownLabelError,
    );
  });
});
