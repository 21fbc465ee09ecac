// `buyerpath/page` in browsers and bundlers: fetches and compiles the page
// build's Wasm file next to this module (top-level await: importers wait
// until it is ready). No JSON playbook compiler: `Engine.fromBytes(bytes)`
// loads an engine compiled ahead by `buyerpath compile`.
import init, { Engine as PageEngine } from './buyerpath.js';
import { pageEngine } from './engine.js';

await init({ module_or_path: new URL('./buyerpath_bg.wasm', import.meta.url) });

export const Engine = pageEngine(PageEngine);
export { Visitor } from './buyerpath.js';
