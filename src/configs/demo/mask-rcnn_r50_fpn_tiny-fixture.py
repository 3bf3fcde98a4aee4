# The architecture of the tiny reference checkpoint in
# ../shared/fixtures/tiny-mask-rcnn/ (tiny_mask_rcnn_r50_fpn.pth): Mask R-CNN
# R50-FPN with MMDetection's 360 state_dict keys, but narrow — ResNet-50 with
# base_channels 16 (C2..C5 = 64, 128, 256, 512 channels), a 64-channel FPN,
# 256-wide shared FCs and 8 Cityscapes classes. Random weights, not trained.
_base_ = '../cityscapes/mask-rcnn_r50_fpn_1x_cityscapes.py'

model = dict(
    backbone=dict(
        depth=50,
        base_channels=16,
        stem_channels=16,
        init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64, num_outs=5),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=8),
        mask_roi_extractor=dict(out_channels=64),
        mask_head=dict(in_channels=64, conv_out_channels=64, num_classes=8)))

# the checkpoint is a local fixture; point load_from at it to use it
load_from = None
