/**
 * Gradient of `RoIAlign` (tfjs 4.22 has none for CropAndResize or anything like it). The feature
 * map's gradient is the `RoIAlignGrad` kernel; RoIs get no gradient (zeros), as in mmcv/torchvision.
 */
import { engine, zerosLike, type GradConfig, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs-core';
import { RoIAlign, RoIAlignGrad, type RoIAlignAttrs, type RoIAlignGradAttrs } from '../kernel_names';

/** GradConfig for {@link RoIAlign}: `x` → `RoIAlignGrad(dy, rois)`, `rois` → zeros. */
export const roiAlignGradConfig: GradConfig = {
  kernelName: RoIAlign,
  inputsToSave: ['x', 'rois'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, rois] = saved;
    const gradAttrs: RoIAlignGradAttrs = { ...(attrs as unknown as RoIAlignAttrs), xShape: x.shape };
    return {
      x: () =>
        engine().runKernel(RoIAlignGrad, { dy: dy as Tensor, rois }, gradAttrs as unknown as NamedAttrMap) as Tensor,
      rois: () => zerosLike(rois),
    };
  },
};
