// The wasm-opt flags of the package's modules (build-pkg.mjs), shared with
// benches/size/size.mjs, which rebuilds the module with names for twiggy.
// Besides the level (-Oz or -Os, the smaller kept):
// - `--low-memory-unused`: Rust puts nothing below 1 KiB of linear memory (its
//   data starts at 1 MiB), so constant addresses fold into loads and stores;
// - `--zero-filled-memory`: the module defines its own memory, which starts
//   zeroed, so zero bytes need no data segment;
// - `--converge`: runs the passes again until the module stops shrinking.
// Measured at b39d4dc: −2.3 KB gzip for the package, −2.4 KB for the page
// build; decide, observe and compile in Node unchanged (interleaved A/B,
// both orders, within ±2%).
export const WASM_OPT_EXTRA = ['--low-memory-unused', '--zero-filled-memory', '--converge'];
