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
// The glue is generated code: each patch point must be found exactly once,
// or the build stops with the text it looked for (a new wasm-bindgen version
// may have moved it).

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
    at: 'function passStringToWasm0(arg, malloc, realloc) {\n',
    add:
      '    if (textHooks !== null && realloc !== undefined) {\n' +
      '        const done = textHooks.encode(arg, malloc, realloc, getUint8ArrayMemory0);\n' +
      '        if (done !== undefined) {\n' +
      '            WASM_VECTOR_LEN = done[1];\n' +
      '            return done[0];\n' +
      '        }\n' +
      '    }\n',
  },
];

const HOOK =
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
  for (const at of [...POINTS.map((p) => p.at), ...USES]) {
    const n = count(glue, at);
    if (n !== 1) {
      throw new Error(`glue-hooks: \`${at.trim()}\` is in the wasm-bindgen glue ${n} times, not once; update scripts/glue-hooks.mjs for this wasm-bindgen version`);
    }
  }
  let out = glue;
  for (const { at, add } of POINTS) out = out.split(at).join(at + add);
  return out + HOOK;
}
