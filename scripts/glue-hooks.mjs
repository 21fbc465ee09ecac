// The generated wasm-bindgen glue, given one hook for text crossing the
// boundary: a runtime entry of the package may install faster ways to turn a
// string into UTF-8 in Wasm memory and back (pkg-template/node-text.js does
// for Node). Without a hook, or when the hook declines (returns undefined),
// the glue's own code runs unchanged.
//
// Why: Node 20's TextDecoder takes ~11 µs for the 8 KB decision of the
// reference workload (ICU), while the same ASCII bytes become a string in
// ~1 µs through node:buffer; and the glue's per-character encoding loop takes
// ~1.5 µs for a 458-character request where TextEncoder.encodeInto takes 0.2.
//
// Two more patches make the glue's own errors the package's: a method called
// on an object after its free() throws `freed` (wasm-bindgen's glue threw
// "null pointer passed to rust"), and a second free() does nothing.
//
// The glue is generated code: each patch point must be found exactly once
// (at least once for the per-class one), or the build stops with the text it
// looked for (a new wasm-bindgen version may have moved it).

const POINTS = [
  {
    at: 'function decodeText(bytes) {\n',
    add:
      '    if (textHooks !== null) {\n' +
      '        const text = textHooks.decode(bytes);\n' +
      '        if (text !== undefined) return text;\n' +
      '    }\n',
  },
  {
    // The Rust side's thrown message: "null pointer passed to rust" is a
    // method called on an object after its free().
    at: '            throw new Error(getStringFromWasm0(arg0, arg1));\n',
    replace: '            throw thrownError(getStringFromWasm0(arg0, arg1));\n',
  },
  {
    // free() a second time does nothing (wasm-bindgen's would throw), so
    // `using` and an explicit free() can meet. One per class.
    at: '    free() {\n        const ptr = this.__destroy_into_raw();\n',
    add: '        if (ptr === 0) return;\n',
    each: true,
  },
  {
    at: 'function passStringToWasm0(arg, malloc, realloc) {\n',
    add:
      '    if (typeof arg !== \'string\') throw notAString(arg);\n' +
      '    if (textHooks !== null && realloc !== undefined) {\n' +
      '        const done = textHooks.encode(arg, malloc, realloc, getUint8ArrayMemory0);\n' +
      '        if (done !== undefined) {\n' +
      '            WASM_VECTOR_LEN = done[1];\n' +
      '            return done[0];\n' +
      '        }\n' +
      '    }\n',
  },
];

// Every string argument crosses through passStringToWasm0: one that is not a
// string (an object given to a *Json method, null, a number) would otherwise
// reach Wasm memory as garbage (a trap, "memory access out of bounds") or
// throw a TypeError naming the glue's internals. It gets the package's error
// instead, as the engine's own bad-input errors look.
const NOT_A_STRING =
  '\n// Added by scripts/glue-hooks.mjs: a string argument that is not a string is the package\'s error.\n' +
  'function notAString(arg) {\n' +
  "    const t = Array.isArray(arg) ? 'array' : typeof arg;\n" +
  "    const found = arg === null || t === 'undefined' ? String(arg) : `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`;\n" +
  "    const message = `expected a string, found ${found}`;\n" +
  "    const hint = found === 'an object' || found === 'an array'\n" +
  "        ? 'pass a string: a *Json method takes JSON text (JSON.stringify(value)), and the same method without Json takes the object'\n" +
  "        : 'pass a string';\n" +
  '    const err = new Error(`invalid_argument at $: ${message} (${hint})`);\n' +
  "    err.name = 'BuyerpathError';\n" +
  "    err.code = 'invalid_argument';\n" +
  "    err.path = '$';\n" +
  '    err.hint = hint;\n' +
  "    err.issues = [{ code: 'invalid_argument', path: '$', message, hint }];\n" +
  '    return err;\n' +
  '}\n';

// An object used after free(): the package's error, with a code and what to do.
const FREED =
  '\n// Added by scripts/glue-hooks.mjs: an object used after free() is the package\'s error.\n' +
  'function thrownError(message) {\n' +
  "    if (message !== 'null pointer passed to rust') return new Error(message);\n" +
  "    const what = 'this object was freed (its free() was called, or a `using` block ended) and cannot be used';\n" +
  "    const hint = 'make another: an Engine from its playbook (or Engine.fromBytes), a Visitor with engine.visitor(id) or engine.decode(state)';\n" +
  '    const err = new Error(`freed at $: ${what} (${hint})`);\n' +
  "    err.name = 'BuyerpathError';\n" +
  "    err.code = 'freed';\n" +
  "    err.path = '$';\n" +
  '    err.hint = hint;\n' +
  "    err.issues = [{ code: 'freed', path: '$', message: what, hint }];\n" +
  '    return err;\n' +
  '}\n';

const HOOK =
  NOT_A_STRING +
  FREED +
  '\n// Added by scripts/glue-hooks.mjs: a runtime entry may install faster text crossings.\n' +
  'let textHooks = null;\n' +
  '/** @internal `{ decode(bytes) -> string | undefined, encode(text, malloc, realloc, memory) -> [ptr, len] | undefined }` */\n' +
  'export function __setTextHooks(hooks) {\n' +
  '    textHooks = hooks;\n' +
  '}\n';

// What the added code uses of the glue: each must be there exactly once too.
const USES = ['let WASM_VECTOR_LEN = 0;', 'function getUint8ArrayMemory0() {', 'ptr = realloc(ptr, len, offset, 1) >>> 0;'];

/** How many times `text` holds `part`. */
const count = (text, part) => text.split(part).length - 1;

/** `glue` with the text hook added; throws when a patch point or a name it uses is not there exactly once. */
export function addTextHooks(glue) {
  for (const { at, each } of [...POINTS, ...USES.map((at) => ({ at }))]) {
    const n = count(glue, at);
    if (each ? n === 0 : n !== 1) {
      throw new Error(`glue-hooks: \`${at.trim()}\` is in the wasm-bindgen glue ${n} times, not ${each ? 'at least ' : ''}once; update scripts/glue-hooks.mjs for this wasm-bindgen version`);
    }
  }
  let out = glue;
  for (const { at, add, replace } of POINTS) out = out.split(at).join(replace ?? at + add);
  return out + HOOK;
}
