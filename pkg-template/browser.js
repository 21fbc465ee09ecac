// Browser and bundler entry: fetches and compiles the Wasm file that sits next to
// this module (Vite and webpack 5 copy it; with esbuild copy it next to the
// bundle; with a plain <script type="module"> serve the package directory). Top-level await: importers wait until the engine is ready.
// The build made for size (opt-level `s`): what every page view downloads.
import { loadWasm } from './wasm-load.js';
import init from './buyerpath.js';

await loadWasm(init, new URL('./buyerpath_bg.wasm', import.meta.url), { entry: 'buyerpath', mark: 'engine_new', file: 'buyerpath_bg.wasm' });

export { Engine, Visitor, CompiledCondition, evalCondition } from './buyerpath.js';
