// The wasm-opt flags of the package's modules (build-pkg.mjs), shared with
// benches/size/size.mjs, which rebuilds the module with names for twiggy.
// Besides the level (-Oz or -Os, the smaller kept):
// - `--low-memory-unused`: binaryen may then fold constant offsets into loads
//   and stores where the address arithmetic could otherwise wrap into the
//   first 1 KiB; Rust's stack comes first and grows down from 1 MiB (the data
//   follows it), and no valid address computation wraps there;
// - `--zero-filled-memory`: the module defines its own memory, which starts
//   zeroed, so zero bytes need no data segment;
// - `--converge`: runs the passes again until the module stops shrinking.
// Measured at b39d4dc: −2.3 KB gzip for the package, −2.4 KB for the page
// build; decide, observe and compile in Node unchanged (interleaved A/B,
// both orders, within ±2%).
export const WASM_OPT_EXTRA = ['--low-memory-unused', '--zero-filled-memory', '--converge'];
