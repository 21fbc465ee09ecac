#!/usr/bin/env node
// The package size budget (PRODUCT.md §5): the Wasm module plus the JS glue
// ≤ 60 KB gzipped (61,440 bytes, gzip -9, as build-pkg prints). Prints the
// figures; exits 1 above the budget, 2 when the package is not built.
// `--ceiling BYTES` fails only above that ceiling instead (a regression guard
// while the package is still over its budget; the budget line is printed anyway).
//
//   node scripts/check-size.mjs [PKG_DIR] [--ceiling BYTES]
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const BUDGET = 60 * 1024;
const root = join(fileURLToPath(import.meta.url), '..', '..');
const args = process.argv.slice(2);
const at = args.indexOf('--ceiling');
const ceiling = at >= 0 ? Number(args.splice(at, 2)[1]) : null;
if (ceiling !== null && !(ceiling > 0)) {
  console.error('check-size: --ceiling takes a number of bytes');
  process.exit(2);
}
const pkg = resolve(root, args[0] ?? 'pkg');
const files = ['buyerpath_bg.wasm', 'buyerpath.js'];
for (const f of files) {
  if (!existsSync(join(pkg, f))) {
    console.error(`check-size: ${join(pkg, f)} is missing: build the package first (node scripts/build-pkg.mjs)`);
    process.exit(2);
  }
}
let gzip = 0;
console.log(`${'file'.padEnd(22)} ${'raw'.padStart(9)} ${'gzip'.padStart(9)} ${'brotli'.padStart(9)}`);
for (const f of files) {
  const b = readFileSync(join(pkg, f));
  const gz = gzipSync(b, { level: 9 }).length;
  const br = brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  gzip += gz;
  console.log(`${f.padEnd(22)} ${String(b.length).padStart(9)} ${String(gz).padStart(9)} ${String(br).padStart(9)}`);
}
const ok = gzip <= BUDGET;
console.log(`Wasm + glue: ${gzip} B gzip, budget ${BUDGET} B: ${ok ? 'within' : `OVER by ${gzip - BUDGET} B`}`);
if (ceiling !== null) {
  const under = gzip <= ceiling;
  console.log(`regression ceiling ${ceiling} B: ${under ? 'not exceeded' : `EXCEEDED by ${gzip - ceiling} B`}`);
  process.exit(under ? 0 : 1);
}
process.exit(ok ? 0 : 1);
