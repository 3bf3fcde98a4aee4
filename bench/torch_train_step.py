"""torchvision's Mask R-CNN (NOT MMDetection's) shaped like DetStudio's tiny demo model, timed on CPU.

The closest torchvision analogue of src/configs/demo/mask-rcnn_r18_fpn_8xb2-demo_cityscapes.py:
ResNet-18 (random init, frozen BN, stem + layer1 frozen like frozen_stages=1) with a 64-channel FPN
(P2-P6), RPN with 3 anchors per location (sizes 32..512, ratios 0.5/1/2), RoIAlign 7x7 / 14x14,
shared 2-fc box head of width 256, 4-conv mask head of width 64, 8 + 1 classes, samplers of 128 for
the RPN and the RoI head, batch 2 of 256x128 images (min_size 128, max_size 256 so nothing resizes).
Inputs are random images with 4 random boxes/masks per image; a fixed seed. One iteration =
forward + backward + SGD step. Prints one JSON line: s/iter median (wall and process CPU), threads.
Usage: python3 bench/torch_train_step.py [iters] [warmup]
"""
import json
import sys
import time

import torch
from torchvision.models import resnet18
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.ops.misc import FrozenBatchNorm2d


def build_model():
    body = resnet18(weights=None, norm_layer=FrozenBatchNorm2d)
    for name, p in body.named_parameters():
        if name.startswith(('conv1', 'bn1', 'layer1')):
            p.requires_grad_(False)
    backbone = BackboneWithFPN(
        body, {'layer1': '0', 'layer2': '1', 'layer3': '2', 'layer4': '3'},
        [64, 128, 256, 512], 64)
    return MaskRCNN(
        backbone, num_classes=None, min_size=128, max_size=256,
        rpn_pre_nms_top_n_train=2000, rpn_post_nms_top_n_train=1000,
        rpn_batch_size_per_image=128, box_batch_size_per_image=128,
        box_head=TwoMLPHead(64 * 7 * 7, 256), box_predictor=FastRCNNPredictor(256, 9),
        mask_head=MaskRCNNHeads(64, (64, 64, 64, 64), 1), mask_predictor=MaskRCNNPredictor(64, 64, 9))


def batch(gen):
    imgs, targets = [], []
    for _ in range(2):
        imgs.append(torch.rand(3, 128, 256, generator=gen))
        xy = torch.rand(4, 2, generator=gen) * torch.tensor([200.0, 90.0])
        wh = 16 + torch.rand(4, 2, generator=gen) * 40
        boxes = torch.cat([xy, xy + wh], 1)
        masks = torch.zeros(4, 128, 256, dtype=torch.uint8)
        for i, (x0, y0, x1, y1) in enumerate(boxes.round().long().tolist()):
            masks[i, y0:y1, x0:x1] = 1
        labels = torch.randint(1, 9, (4,), generator=gen)
        targets.append({'boxes': boxes, 'labels': labels, 'masks': masks})
    return imgs, targets


def main():
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    torch.manual_seed(0)
    torch.set_num_threads(1)  # DetStudio's Node wasm path is single-threaded
    gen = torch.Generator().manual_seed(0)
    model = build_model().train()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9, weight_decay=1e-4)
    data = [batch(gen) for _ in range(4)]
    wall, cpu = [], []
    for i in range(warmup + iters):
        imgs, targets = data[i % len(data)]
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
    med = lambda xs: sorted(xs)[len(xs) // 2]
    print(json.dumps({
        'model': "torchvision MaskRCNN (not MMDetection's): R18 + FPN 64, 8+1 classes, batch 2, 256x128, samplers 128/128",
        'torch': torch.__version__, 'threads': torch.get_num_threads(), 'iterations_timed': iters,
        's_per_iter_wall_median': round(med(wall), 4), 's_per_iter_cpu_median': round(med(cpu), 4)}))


if __name__ == '__main__':
    main()
