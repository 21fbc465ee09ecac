#!/usr/bin/env node
// The package size budget (PRODUCT.md §5): the Wasm module plus the JS glue
// ≤ 60 KB gzipped (61,440 bytes, gzip -9, as build-pkg prints). Prints the
// figures; exits 1 above the budget, 2 when the package is not built.
//
//   node scripts/check-size.mjs [PKG_DIR]
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const BUDGET = 60 * 1024;
const root = join(fileURLToPath(import.meta.url), '..', '..');
const pkg = resolve(root, process.argv[2] ?? 'pkg');
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
process.exit(ok ? 0 : 1);
