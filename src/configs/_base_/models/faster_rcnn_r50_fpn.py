# MMDetection 2.x name of the Faster R-CNN R50-FPN model base (3.x: faster-rcnn_r50_fpn.py).
_base_ = './faster-rcnn_r50_fpn.py'
