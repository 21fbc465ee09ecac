// The browser entries' Wasm loading. With a bundler, the Wasm file is the one
// copied next to the bundle: the other entry's (`buyerpath` and
// `buyerpath/page` are two builds with one file name) or a missing one fails
// here, with what to copy, rather than as a missing function at the first call.

/**
 * Runs the glue's `init` on `url` and checks that the module is `entry`'s (it
 * exports `mark`); otherwise throws an Error with `code: 'wasm_load_failed'`, `path: '$'`
 * and a hint naming `file`, the package file to serve at `url` (or the
 * Content Security Policy's `'wasm-unsafe-eval'`, when that refused it).
 */
export async function loadWasm(init, url, { entry, mark, file }) {
  let exports = null;
  let cause = null;
  try {
    exports = await init({ module_or_path: url });
  } catch (err) {
    cause = err;
  }
  if (exports && typeof exports[mark] === 'function') return exports;
  const why = cause ? `could not be loaded (${cause && cause.message})` : `is another build's, not ${entry}'s`;
  // The file arrived, but the page's Content Security Policy forbids compiling it.
  // (Chromium: "...'unsafe-eval' is not an allowed source... Content Security
  // Policy..."; Firefox: "call to WebAssembly.instantiate() blocked by CSP".)
  const csp = /unsafe-eval|Content Security Policy|blocked by CSP/i.test(String(cause && cause.message));
  const hint = csp
    ? `allow compiling WebAssembly in the page's Content-Security-Policy: script-src 'wasm-unsafe-eval' (or 'unsafe-eval' in browsers without it)`
    : `serve node_modules/buyerpath/${file} at that URL (next to the module or bundle that imports ${entry})`;
  const err = new Error(`${entry}: the Wasm file at ${url} ${why}: ${hint}`, cause ? { cause } : undefined);
  err.name = 'BuyerpathError';
  err.code = 'wasm_load_failed';
  err.path = '$'; // the module as a whole
  err.hint = hint;
  err.issues = [{ code: err.code, path: err.path, message: err.message, hint }];
  throw err;
}
