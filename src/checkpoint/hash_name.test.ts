import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.ts';
import { checkpointFileName, hashPrefixFromName, sha256Hex, torchHubHashPrefix, verifyHashName } from './hash_name.ts';

/** The tutorial config's `load_from`, read from the fixture (not retyped). */
function tutorialLoadFrom(): string {
  const text = readFileSync(fixturePath('tutorial/configs/cityscapes/finetune_tutorial.py'), 'utf8');
  const m = /^load_from\s*=\s*'([^']+)'/m.exec(text);
  if (!m) throw new Error('load_from not found in the tutorial config');
  return m[1]!;
}

describe('hashPrefixFromName', () => {
  it('reads publish_model.py and torchvision names', () => {
    expect(hashPrefixFromName('mask_rcnn_r50_fpn_1x_coco_20200205-d4b0c5d6.pth')).toBe('d4b0c5d6');
    expect(hashPrefixFromName('resnet50-0676ba61.pth')).toBe('0676ba61');
    expect(hashPrefixFromName('/a/b/resnet50-0676ba61.pth')).toBe('0676ba61');
    expect(hashPrefixFromName('C:\\w\\resnet50-0676ba61.pth')).toBe('0676ba61');
    expect(hashPrefixFromName('https://h/x/y-0123456789abcdef.pth?download=1#frag')).toBe('0123456789abcdef');
    expect(hashPrefixFromName('model-d4b0c5d6.pth.tar')).toBe('d4b0c5d6');
  });

  it('returns null for names without a hash', () => {
    for (const n of ['latest.pth', 'epoch_12.pth', 'best_coco_bbox_mAP_epoch_3.pth', 'x-d4b0c5d.pth', 'x-D4B0C5D6.pth', 'x-d4b0c5dz.pth', 'x-d4b0c5d6', 'x-d4b0c5d6-1.pth', 'https://h/dir/']) {
      expect(hashPrefixFromName(n), n).toBeNull();
    }
  });

  it("takes the tutorial checkpoint's real hash where torch.hub's leftmost regex takes '0'", () => {
    const url = tutorialLoadFrom();
    expect(checkpointFileName(url)).toMatch(/^mask_rcnn_r50_caffe_fpn_mstrain-poly_3x_coco.*\.pth$/);
    expect(hashPrefixFromName(url)).toBe('42aa3d00');
    expect(torchHubHashPrefix(url)).toBe('0');
  });

  it('decodes percent-escapes in URL file names', () => {
    expect(checkpointFileName('https://h/a%20b-d4b0c5d6.pth')).toBe('a b-d4b0c5d6.pth');
    expect(checkpointFileName('https://h/a/')).toBe('');
  });
});

describe('verifyHashName', () => {
  const bytes = new Uint8Array(4096).map((_, i) => (i * 31 + 7) & 255);
  const full = createHash('sha256').update(bytes).digest('hex');

  it('matches node:crypto on known and generated input', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await sha256Hex(bytes)).toBe(full);
    // A view into a larger buffer hashes only its own range.
    const big = new Uint8Array(8192);
    big.set(bytes, 100);
    expect(await sha256Hex(big.subarray(100, 100 + bytes.length))).toBe(full);
  });

  it('accepts the right prefix, rejects a wrong one, and passes names without one', async () => {
    expect(await verifyHashName(`w-${full.slice(0, 8)}.pth`, bytes)).toEqual({ ok: true, expectedPrefix: full.slice(0, 8), actual: full });
    expect((await verifyHashName(`w-${full}.pth`, bytes)).ok).toBe(true);
    const wrong = full.slice(0, 7) + (full[7] === '0' ? '1' : '0');
    expect(await verifyHashName(`w-${wrong}.pth`, bytes)).toEqual({ ok: false, expectedPrefix: wrong, actual: full });
    expect(await verifyHashName('latest.pth', bytes)).toEqual({ ok: true, expectedPrefix: null, actual: full });
  });
});
