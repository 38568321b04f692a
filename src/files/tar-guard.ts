/**
 * Which tar entries podterm lets through when it reads a tar itself (an uploaded archive, a
 * directory downloaded from a pod). As `kubectl cp` does (kubectl/pkg/cmd/cp/cp.go, untarAll and
 * isRelative): no absolute names, no name that climbs out of the target with `..`, no symlink or
 * hard link whose target lies outside it. Device nodes and FIFOs are refused as well: a copy
 * carries files, directories and links, nothing a container could use to reach a device.
 */
import { posix } from 'node:path';

export interface TarEntryHeader {
  name: string;
  type?: string | null;
  linkname?: string | null;
}

const ALLOWED = new Set(['file', 'contiguous-file', 'directory', 'symlink', 'link']);

/** `name` relative to the target (normalised), or null when it leaves it. */
function inside(name: string): string | null {
  if (name.startsWith('/') || name.includes('\0')) return null;
  const n = posix.normalize(name);
  if (n === '..' || n.startsWith('../')) return null;
  return n;
}

/** Why the entry is refused, or null when it is safe to extract under the target. */
export function entryProblem(h: TarEntryHeader): string | null {
  const type = h.type ?? 'file';
  if (!ALLOWED.has(type)) return `${JSON.stringify(h.name)} is a ${type}, which a file copy does not carry`;
  const name = inside(h.name);
  if (name === null) return `${JSON.stringify(h.name)} is outside the target directory`;
  if (type === 'symlink') {
    const link = h.linkname ?? '';
    // A symlink's target is relative to the directory that holds it.
    if (link.startsWith('/') || inside(posix.join(posix.dirname(name), link)) === null) {
      return `symlink ${JSON.stringify(h.name)} points outside the target directory (${JSON.stringify(link)})`;
    }
  }
  if (type === 'link' && inside(h.linkname ?? '') === null) {
    return `hard link ${JSON.stringify(h.name)} points outside the target directory`;
  }
  return null;
}
