_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn.py',
    '../_base_/datasets/cityscapes_detection.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_1x.py'
]
# Fine-tune the COCO model on the 8 Cityscapes classes (boxes only).
model = dict(
    backbone=dict(init_cfg=None),
    roi_head=dict(
        bbox_head=dict(
            num_classes=8,
            loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0))))

# optimizer: lr for a total batch of 8
optim_wrapper = dict(optimizer=dict(lr=0.01))

# learning rate
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=8,
        by_epoch=True,
        # [7] gives higher accuracy than [6]
        milestones=[7],
        gamma=0.1)
]

# 8 epochs over RepeatDataset(times=8) = 64 passes over the data
train_cfg = dict(max_epochs=8)

# start from the COCO model (more stable, better accuracy)
load_from = 'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r50_fpn_1x_coco/faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth'  # noqa

# NOTE: base_batch_size for this schedule would be (8 GPUs) x (1 sample per
# GPU); MMDetection leaves it commented out:
# auto_scale_lr = dict(base_batch_size=8)
