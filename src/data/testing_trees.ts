/**
 * Test helpers: the shared Cityscapes fixture tree loaded into a {@link MemoryFileTree} (so tests can
 * add, remove and corrupt files without touching the fixtures). Node only; used by tests and benches.
 */
import { NodeFileTree } from './node_file_tree.ts';
import { MemoryFileTree } from './file_tree.ts';

/** Loads every file under `root` into memory, paths optionally prefixed. */
export async function loadTreeIntoMemory(root: string, prefix = ''): Promise<MemoryFileTree> {
  const disk = new NodeFileTree(root);
  const mem = new MemoryFileTree();
  for (const p of disk.list()) mem.set(prefix + p, await disk.read(p));
  return mem;
}
