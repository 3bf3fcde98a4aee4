/**
 * What each pane of the studio is for, shown in the navigation and, for panes whose issue has not
 * landed yet, as an honest "coming" page listing what will be there.
 */
import type { PaneId } from '../store/studio_store.ts';

/** Navigation and placeholder text of one pane. */
export interface PaneInfo {
  id: PaneId;
  title: string;
  /** One line under the title. */
  summary: string;
  /** True when the pane is implemented; false shows the "coming" page. */
  ready: boolean;
  /** What the pane will offer (shown while `ready` is false). */
  coming: string[];
}

/** Every pane, in navigation order. */
export const PANE_INFO: readonly PaneInfo[] = [
  {
    id: 'config',
    title: 'Config',
    summary: 'Edit, inherit, resolve',
    ready: true,
    coming: [],
  },
  {
    id: 'dataset',
    title: 'Dataset',
    summary: 'Import and browse Cityscapes or COCO data',
    ready: true,
    coming: [
      'Drop a Cityscapes folder (leftImg8bit/ + gtFine/), a COCO folder or a .zip, or choose a folder',
      "Conversion to COCO instances exactly as MMDetection's cityscapes.py does it, with an import report",
      'A virtualised image grid with instance masks, boxes and crowd regions; filters by class and split',
      'Statistics: instances per class, object sizes, and which images the training filter drops',
      'The bundled synthetic demo dataset, ready to train on',
    ],
  },
  {
    id: 'training',
    title: 'Training',
    summary: 'Fine-tune in a worker, watch loss and mAP',
    ready: true,
    coming: [
      "Train / pause / resume / stop, following the resolved config like MMEngine's Runner",
      'Live charts of every loss term, lr, time per iteration and ETA; mAP after each validation',
      'Logs like MMEngine (text log and scalars.json), downloadable',
    ],
  },
  {
    id: 'checkpoints',
    title: 'Checkpoints',
    summary: 'Saved runs that survive reloads',
    ready: true,
    coming: [
      'Checkpoints in IndexedDB/OPFS with epoch, iteration, size and mAP',
      'Resume with identical optimizer and scheduler state after a reload',
      'Storage usage and quota; delete old checkpoints',
    ],
  },
  {
    id: 'export',
    title: 'Export',
    summary: 'Weights PyTorch and MMDetection load',
    ready: true,
    coming: [
      "Fine-tuned weights as .pth (MMDetection's {meta, state_dict} layout) or .safetensors",
      'The resolved config as a .py MMDetection accepts, and the logs',
      'An MMDetection bundle (.zip) to continue training on a GPU cluster',
    ],
  },
  {
    id: 'predictions',
    title: 'Predictions',
    summary: 'Try the model on images',
    ready: true,
    coming: [
      'Predictions on validation images and on images you drop, with masks, boxes and scores',
      'Score threshold and per-class filters; compare with the ground truth',
    ],
  },
];
