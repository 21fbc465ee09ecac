// Shared paths and loaders for the package tests (Node side).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const pkgDir = join(root, 'pkg');
export const playbookText = readFileSync(join(root, 'examples', 'acme', 'playbook.json'), 'utf8');

/** [name, vector] pairs, sorted by file name. */
export function vectors() {
  const dir = join(root, 'tests', 'vectors');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8'))]);
}

export function requirePkg() {
  if (!existsSync(join(pkgDir, 'buyerpath_bg.wasm'))) {
    throw new Error('pkg/ is not built: run `node scripts/build-pkg.mjs` (./dev test does it)');
  }
}
