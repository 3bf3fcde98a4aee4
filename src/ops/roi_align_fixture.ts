/**
 * Test helper (not a test): runs {@link roiAlign} forward and backward on the torchvision fixtures in
 * `../shared/fixtures/roi-align/` on whatever tfjs backend is active, and reports the largest
 * deviations. The fixtures are NCHW (`input [N,C,H,W]`, `output [K,C,outH,outW]`); DetStudio is NHWC,
 * so inputs are transposed in and results transposed back before comparing. The upstream gradient is
 * `sin(0.7 * i + 0.3)` over the NCHW output's flat index `i`, as in the fixture.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFixtureJson } from '../testing/fixtures';
import { roiAlign } from './roi_align';

interface RoIAlignVariant {
  output_size: number;
  sampling_ratio: number;
  aligned: boolean;
  output_shape: number[];
  output: number[];
  grad_input: number[];
}

interface RoIAlignCase {
  id: number;
  spatial_scale: number;
  input_shape: number[];
  input: number[];
  rois_shape: number[];
  rois: number[];
  variants: RoIAlignVariant[];
}

/** One fixture variant's result. */
export interface RoIAlignCheck {
  name: string;
  /** max |ours - reference| / max(1, |reference|) over the output. */
  outputErr: number;
  /** Same over the input gradient. */
  gradErr: number;
  outputCount: number;
}

/** Names of the fixture case files (from `index.json`). */
export function roiAlignCaseFiles(): string[] {
  const index = readFixtureJson<{ cases: { file: string }[] }>('roi-align', 'index.json');
  return index.cases.map((c) => c.file);
}

function maxRelErr(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (ours.length !== ref.length) return Infinity;
  let err = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(ours[i] - ref[i]) / Math.max(1, Math.abs(ref[i]));
    if (!(e <= err)) err = Number.isNaN(e) ? Infinity : e;
  }
  return err;
}

/**
 * Checks every variant of the named case files (optionally only those matching `keep`) on the
 * active backend.
 */
export async function checkRoIAlignFixtures(
  files: string[],
  keep: (c: RoIAlignCase, v: RoIAlignVariant) => boolean = () => true,
): Promise<RoIAlignCheck[]> {
  const results: RoIAlignCheck[] = [];
  for (const file of files) {
    const c = readFixtureJson<RoIAlignCase>('roi-align', file);
    for (const v of c.variants) {
      if (!keep(c, v)) continue;
      const [n, ch, h, w] = c.input_shape;
      const [k, , oh, ow] = v.output_shape;
      const upstream = new Float32Array(k * ch * oh * ow);
      for (let i = 0; i < upstream.length; i++) upstream[i] = Math.sin(0.7 * i + 0.3);
      const x = tf.transpose(tf.tensor4d(c.input, [n, ch, h, w]), [0, 2, 3, 1]) as tf.Tensor4D;
      const rois = tf.tensor2d(c.rois, [c.rois_shape[0], 5]);
      const dyNhwc = tf.transpose(tf.tensor4d(upstream, [k, ch, oh, ow]), [0, 2, 3, 1]);
      const options = {
        outputSize: v.output_size,
        spatialScale: c.spatial_scale,
        samplingRatio: v.sampling_ratio,
        aligned: v.aligned,
      };
      const out = tf.tidy(() => tf.transpose(roiAlign(x, rois, options), [0, 3, 1, 2]));
      const grad = tf.tidy(() => {
        const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(roiAlign(xx as tf.Tensor4D, rois, options), dyNhwc)))(x);
        return tf.transpose(g, [0, 3, 1, 2]);
      });
      const [outValues, gradValues] = await Promise.all([out.data(), grad.data()]);
      results.push({
        name: `case ${c.id} out ${v.output_size} sampling ${v.sampling_ratio}`,
        outputErr: maxRelErr(outValues, v.output),
        gradErr: maxRelErr(gradValues, v.grad_input),
        outputCount: outValues.length,
      });
      tf.dispose([x, rois, dyNhwc, out, grad]);
    }
  }
  return results;
}
