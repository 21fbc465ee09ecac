// Browser and bundler entry: fetches and compiles the Wasm file that sits next to
// this module (Vite and webpack 5 copy it; with esbuild copy it next to the
// bundle; with a plain <script type="module"> serve the package directory). Top-level await: importers wait until the engine is ready.
// The build made for size (opt-level `s`): what every page view downloads.
import init from './buyerpath.js';

await init({ module_or_path: new URL('./buyerpath_bg.wasm', import.meta.url) });

export { Engine, Visitor, CompiledCondition, evalCondition } from './buyerpath.js';
