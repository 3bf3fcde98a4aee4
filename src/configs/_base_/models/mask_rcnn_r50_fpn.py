# MMDetection 2.x name of the Mask R-CNN R50-FPN model base (3.x: mask-rcnn_r50_fpn.py).
# Kept so configs written for 2.x (e.g. the fine-tuning tutorial) resolve unchanged:
# a single-base chain without own keys resolves to exactly the 3.x file.
_base_ = './mask-rcnn_r50_fpn.py'
