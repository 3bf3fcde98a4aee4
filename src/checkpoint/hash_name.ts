/**
 * The SHA-256 prefix that published checkpoints carry in their file names, and its verification.
 *
 * MMDetection's `tools/model_converters/publish_model.py` appends the first 8 hex digits of the
 * file's sha256 to its name (`mask_rcnn_r50_fpn_1x_coco_20200205-d4b0c5d6.pth`), as torchvision
 * does (`resnet50-0676ba61.pth`). torch.hub's `download_url_to_file(url, dst, hash_prefix)`
 * accepts a download when `sha256(file).hexdigest()` starts with that prefix.
 *
 * How the prefix is found differs on purpose from torch.hub. torch.hub (`check_hash=True`) takes
 * the LEFTMOST match of `-([a-f0-9]*)\.` in the name, of any length, even empty; MMEngine's
 * `load_from_http` calls `load_url` without `check_hash`, so it never verifies at all. On the
 * tutorial's COCO checkpoint,
 * `mask_rcnn_r50_caffe_fpn_mstrain-poly_3x_coco_bbox_mAP-0.408__segm_mAP-0.37_20200504_163245-42aa3d00.pth`,
 * torch.hub's rule would find `0` (from `mAP-0.408`) and check one hex digit. Here the prefix is
 * the text between the LAST `-` and the extension, and only when it is 8 to 64 lowercase hex
 * digits (`42aa3d00` above); a name without one is not verified. {@link torchHubHashPrefix} gives
 * torch.hub's reading for comparison.
 *
 * Pure TypeScript over WebCrypto (`globalThis.crypto.subtle`): runs in workers, pages and Node 20.
 */

/** Fewest hex digits accepted as a hash prefix (publish_model.py writes 8). */
export const MIN_HASH_PREFIX_LENGTH = 8;

/** A whole sha256 in hex has 64 digits; longer runs are not sha256 prefixes. */
const MAX_HASH_PREFIX_LENGTH = 64;

/** `-<hex>.<extension without '-'>` at the end of a name: the last `-` before the extension. */
const HASH_SUFFIX = new RegExp(`-([0-9a-f]{${MIN_HASH_PREFIX_LENGTH},${MAX_HASH_PREFIX_LENGTH}})\\.[^-]+$`);

/** torch.hub's `HASH_REGEX` rule (leftmost `-([a-f0-9]*)\.`), re-expressed here for comparison. */
const TORCH_HUB_HASH = /-([a-f0-9]*)\./;

/** Result of {@link verifyHashName}. */
export interface HashNameCheck {
  /** True when the name has no hash prefix, or when the content's sha256 starts with it. */
  ok: boolean;
  /** The prefix read from the name (lowercase hex), or null when the name carries none. */
  expectedPrefix: string | null;
  /** The content's full sha256, 64 lowercase hex digits. */
  actual: string;
}

/**
 * The last path segment of a URL or a file path, percent-decoded for URLs
 * (`https://h/a/b-1234abcd.pth?x=1` → `b-1234abcd.pth`). Query and fragment are ignored.
 *
 * @param urlOrPath An absolute http(s) URL, a `file:` URL, or a plain path (`/` or `\` separated).
 * @returns The file name, or `''` when the URL or path ends with a separator.
 */
export function checkpointFileName(urlOrPath: string): string {
  let path = urlOrPath;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(urlOrPath)) {
    try {
      path = new URL(urlOrPath).pathname;
    } catch {
      path = urlOrPath.replace(/[?#].*$/, '');
    }
    const last = path.slice(path.lastIndexOf('/') + 1);
    try {
      return decodeURIComponent(last);
    } catch {
      return last;
    }
  }
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

/**
 * The sha256 prefix a checkpoint's file name carries: the 8 to 64 lowercase hex digits between the
 * last `-` and the extension (`mask_rcnn_r50_fpn_1x_coco_20200205-d4b0c5d6.pth` → `d4b0c5d6`).
 *
 * @param fileName A file name, a path or a URL (its last segment is used).
 * @returns The prefix, or null when the name carries none (`latest.pth`, `epoch_12.pth`).
 */
export function hashPrefixFromName(fileName: string): string | null {
  const m = HASH_SUFFIX.exec(checkpointFileName(fileName));
  return m ? m[1]! : null;
}

/**
 * torch.hub's reading of a name (`HASH_REGEX.search(filename)`): the hex run (possibly empty)
 * after the leftmost `-` that is directly followed by hex digits and a `.`. Given only to
 * document why {@link hashPrefixFromName} reads names differently.
 *
 * @param fileName A file name, a path or a URL (its last segment is used).
 * @returns What torch.hub would compare the digest with, or null when its regex does not match.
 */
export function torchHubHashPrefix(fileName: string): string | null {
  const m = TORCH_HUB_HASH.exec(checkpointFileName(fileName));
  return m ? m[1]! : null;
}

/**
 * SHA-256 of some bytes with WebCrypto, as lowercase hex.
 *
 * @param bytes The content (any view; only its own range is hashed).
 * @returns 64 hex digits.
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('SHA-256 needs WebCrypto (crypto.subtle), which this environment lacks (a page served over plain http?)');
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/**
 * Checks bytes against the hash prefix in their file name (torch.hub's acceptance rule: the
 * digest starts with the prefix).
 *
 * @param fileName The checkpoint's file name (or its URL or path).
 * @param bytes The downloaded content.
 * @returns `{ok, expectedPrefix, actual}`; `ok` is true when the name carries no prefix.
 */
export async function verifyHashName(fileName: string, bytes: Uint8Array): Promise<HashNameCheck> {
  const expectedPrefix = hashPrefixFromName(fileName);
  const actual = await sha256Hex(bytes);
  return { ok: expectedPrefix === null || actual.startsWith(expectedPrefix), expectedPrefix, actual };
}
