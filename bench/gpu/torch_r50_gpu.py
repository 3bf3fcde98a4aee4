"""PyTorch twin of bench/gpu/r50_webgpu.ts on the same GPU: torchvision's maskrcnn_resnet50_fpn
(NOT MMDetection's; num_classes 9 = 8 Cityscapes classes + background, random init,
trainable_backbone_layers 3 = frozen stem + layer1 like frozen_stages=1), batch 1 at 512x1024 and
1024x2048 (min_size/max_size set so nothing is resized), 5 random boxes with masks, SGD lr 0.01 momentum
0.9. One iteration = forward + backward + SGD step + loss.item(). Strict fp32 (TF32 off, the
like-for-like row) and TF32. Writes kit-results/torch-r50.jsonl and, when kit-results/tfjs-webgpu-r50.jsonl
is there, prints ratio lines.

Usage: python3 bench/gpu/torch_r50_gpu.py [iters] [warmup]
"""
import json
import os
import statistics
import sys
import time

import torch
from torchvision.models.detection import maskrcnn_resnet50_fpn

ITERS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
WARMUP = int(sys.argv[2]) if len(sys.argv) > 2 else 3
OUT = os.path.join(os.environ.get('KIT_RESULTS_DIR', 'kit-results'))
os.makedirs(OUT, exist_ok=True)
RES = os.path.join(OUT, 'torch-r50.jsonl')


def emit(o):
    line = json.dumps(o)
    print(line, flush=True)
    with open(RES, 'a') as f:
        f.write(line + '\n')


def run(h, w, tf32):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = False  # RoI counts vary per iteration: autotuning would re-run on every new shape (MMDetection default env_cfg too)
    torch.manual_seed(0)
    dev = torch.device('cuda')
    m = maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=9, trainable_backbone_layers=3,
                              min_size=h, max_size=w).to(dev)
    m.train()
    opt = torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.01, momentum=0.9, weight_decay=1e-4)
    g = torch.Generator().manual_seed(0)
    img = torch.rand(3, h, w, generator=g).to(dev)
    xy = torch.rand(5, 2, generator=g) * torch.tensor([w * 0.7, h * 0.7])
    wh = 32 + torch.rand(5, 2, generator=g) * torch.tensor([w * 0.25, h * 0.25])
    boxes = torch.cat([xy, xy + wh], 1)
    masks = torch.zeros(5, h, w, dtype=torch.uint8)
    for i, (x0, y0, x1, y1) in enumerate(boxes.round().long().tolist()):
        masks[i, y0:y1, x0:x1] = 1
    tgt = [{'boxes': boxes.to(dev), 'labels': torch.randint(1, 9, (5,), generator=g).to(dev), 'masks': masks.to(dev)}]
    times = []
    for i in range(WARMUP + ITERS):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        losses = m([img], tgt)
        loss = sum(losses.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()
        torch.cuda.synchronize()
        if i >= WARMUP:
            times.append((time.perf_counter() - t0) * 1000)
    emit({'kind': 'result', 'backend': 'torch-cuda-tf32' if tf32 else 'torch-cuda-fp32',
          'name': f'mask_rcnn_r50_fpn_train_step_{h}x{w}', 'ms_median': round(statistics.median(times), 2),
          'ms_all': [round(t, 2) for t in times], 'max_memory_allocated_MiB': round(torch.cuda.max_memory_allocated() / 2**20, 1),
          'torch': torch.__version__, 'device': torch.cuda.get_device_name(0)})
    del m, opt
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()


def main():
    for h, w in [(512, 1024), (1024, 2048)]:
        for tf32 in (False, True):
            try:
                run(h, w, tf32)
            except Exception as e:  # report and go on
                emit({'kind': 'error', 'name': f'{h}x{w}', 'tf32': tf32, 'error': repr(e)[:500]})
    tj = os.path.join(OUT, 'tfjs-webgpu-r50.jsonl')
    if os.path.exists(tj):
        ours = {}
        for line in open(tj):
            o = json.loads(line)
            if o.get('kind') == 'result':
                ours[o['name']] = o['ms_median']
        for line in open(RES):
            o = json.loads(line)
            if o.get('kind') == 'result' and o['name'] in ours:
                print(json.dumps({'kind': 'ratio', 'name': o['name'], 'vs': o['backend'],
                                  'webgpu_over_torch': round(ours[o['name']] / o['ms_median'], 2)}), flush=True)


if __name__ == '__main__':
    main()
