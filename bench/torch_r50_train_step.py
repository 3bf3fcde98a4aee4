"""torchvision's maskrcnn_resnet50_fpn (NOT MMDetection's) train step on CPU, for bench/r50_train_step.bench.ts.

The model: maskrcnn_resnet50_fpn's architecture (ResNet-50 + FPN 256), random init, num_classes=9
(8 Cityscapes classes + background), 3 trainable backbone layers (stem and layer1 frozen,
FrozenBatchNorm2d everywhere, like MMDetection's frozen_stages=1 / norm_eval), torchvision's
default samplers (RPN 256, box head 512). min_size/max_size are set to the input so nothing resizes.
Input: batch 1 of a random H x W image with 4 random boxes/masks; fixed seed. One iteration =
forward + backward + SGD step (momentum 0.9, weight decay 1e-4). One thread (DetStudio's Node wasm
backend runs single-threaded). Prints one JSON line.
Usage: python3 bench/torch_r50_train_step.py H W [iters] [warmup]
"""
import json
import sys
import time

import torch
import torchvision
from torchvision.models import resnet50
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
from torchvision.ops.misc import FrozenBatchNorm2d


def sample(gen, h, w):
    img = torch.rand(3, h, w, generator=gen)
    xy = torch.rand(4, 2, generator=gen) * torch.tensor([w * 0.7, h * 0.7])
    wh = 32 + torch.rand(4, 2, generator=gen) * torch.tensor([w * 0.25, h * 0.25])
    boxes = torch.cat([xy, xy + wh], 1)
    masks = torch.zeros(4, h, w, dtype=torch.uint8)
    for i, (x0, y0, x1, y1) in enumerate(boxes.round().long().tolist()):
        masks[i, y0:y1, x0:x1] = 1
    labels = torch.randint(1, 9, (4,), generator=gen)
    return [img], [{'boxes': boxes, 'labels': labels, 'masks': masks}]


def main():
    h, w = int(sys.argv[1]), int(sys.argv[2])
    iters = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    warmup = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    torch.manual_seed(0)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    # What maskrcnn_resnet50_fpn builds with pretrained weights (FrozenBatchNorm2d, 3 trainable
    # layers); without weights it would switch to BatchNorm2d and train every layer.
    backbone = _resnet_fpn_extractor(resnet50(weights=None, norm_layer=FrozenBatchNorm2d), 3)
    model = MaskRCNN(backbone, num_classes=9, min_size=min(h, w), max_size=max(h, w)).train()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9, weight_decay=1e-4)
    imgs, targets = sample(gen, h, w)
    wall, cpu = [], []
    for i in range(warmup + iters):
        t0, c0 = time.perf_counter(), time.process_time()
        losses = model(imgs, targets)
        loss = sum(losses.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        float(loss)
        if i >= warmup:
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        print(f'  torch step {i}: {time.perf_counter() - t0:.1f} s wall', file=sys.stderr)
    med = lambda xs: sorted(xs)[len(xs) // 2]
    print(json.dumps({
        'model': "torchvision MaskRCNN R50-FPN as maskrcnn_resnet50_fpn builds it (not MMDetection's), num_classes 9, random init, frozen BN, stem+layer1 frozen, batch 1",
        'input': [1, 3, h, w], 'torch': torch.__version__, 'torchvision': torchvision.__version__,
        'threads': torch.get_num_threads(), 'iterations_timed': iters,
        's_per_iter_wall_median': round(med(wall), 3), 's_per_iter_cpu_median': round(med(cpu), 3),
        's_per_iter_wall': [round(x, 3) for x in wall], 's_per_iter_cpu': [round(x, 3) for x in cpu]}))


if __name__ == '__main__':
    main()
