/**
 * Builds the file tree shown in the Config pane from flat paths.
 */

/** A folder or file node. */
export interface TreeNode {
  name: string;
  /** Full path (folders: without trailing slash). */
  path: string;
  kind: 'folder' | 'file';
  children: TreeNode[];
}

/** Nests sorted paths into folders; folders first, then files, each alphabetical. */
export function buildTree(paths: string[]): TreeNode[] {
  const root: TreeNode = { name: '', path: '', kind: 'folder', children: [] };
  for (const path of paths) {
    const parts = path.split('/');
    let node = root;
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      const full = parts.slice(0, i + 1).join('/');
      const isFile = i === parts.length - 1;
      let child = node.children.find((c) => c.name === name && c.kind === (isFile ? 'file' : 'folder'));
      if (!child) {
        child = { name, path: full, kind: isFile ? 'file' : 'folder', children: [] };
        node.children.push(child);
      }
      node = child;
    }
  }
  const sort = (n: TreeNode): void => {
    n.children.sort((a, b) => (a.kind !== b.kind ? (a.kind === 'folder' ? -1 : 1) : a.name.localeCompare(b.name)));
    n.children.forEach(sort);
  };
  sort(root);
  return root.children;
}

/** The relative path from folder `fromDir` to file `to` (both tree paths), as `_base_` would write it. */
export function relativePath(fromDir: string, to: string): string {
  const a = fromDir ? fromDir.split('/') : [];
  const b = to.split('/');
  let i = 0;
  while (i < a.length && i < b.length - 1 && a[i] === b[i]) i++;
  const up = a.length - i;
  const rel = [...new Array<string>(up).fill('..'), ...b.slice(i)].join('/');
  return up === 0 ? `./${rel}` : rel;
}

/** Folder part of a tree path (`''` at the top). */
export function folderOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}
