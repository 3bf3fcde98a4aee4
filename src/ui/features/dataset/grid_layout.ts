/**
 * Geometry of the virtualised image grid, as pure functions: how many columns fit, the cell and row
 * size, and which rows intersect the viewport (only those are rendered).
 */

/** Minimum cell width, gap and caption height (CSS pixels). */
export const CELL_MIN_WIDTH = 184;
export const GRID_GAP = 10;
export const CAPTION_HEIGHT = 24;
/** Rows rendered above and below the viewport. */
export const OVERSCAN_ROWS = 2;

/** Layout of a grid of `count` images of aspect `height / width` in a container `width` wide. */
export interface GridLayout {
  columns: number;
  cellWidth: number;
  /** Row pitch: image + caption + gap. */
  rowHeight: number;
  rows: number;
  /** Height of the scrolled content. */
  totalHeight: number;
}

/** Computes the grid layout. */
export function gridLayout(width: number, count: number, aspect: number): GridLayout {
  const columns = Math.max(1, Math.floor((width - GRID_GAP) / (CELL_MIN_WIDTH + GRID_GAP)));
  const cellWidth = Math.max(40, Math.floor((width - GRID_GAP * (columns + 1)) / columns));
  const rowHeight = Math.round(cellWidth * aspect) + CAPTION_HEIGHT + GRID_GAP;
  const rows = Math.ceil(count / columns);
  return { columns, cellWidth, rowHeight, rows, totalHeight: rows * rowHeight + GRID_GAP };
}

/** Rows `[first, last)` that intersect the viewport, plus overscan. */
export function visibleRows(scrollTop: number, viewport: number, rowHeight: number, rows: number, overscan = OVERSCAN_ROWS): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(rows, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return [Math.min(first, last), Math.max(first, last)];
}
