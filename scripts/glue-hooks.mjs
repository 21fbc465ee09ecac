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
// More patches make the glue's own errors the package's: a method called on
// an object after its free() throws `freed` before it enters Wasm
// (wasm-bindgen's glue threw "null pointer passed to rust" from inside it),
// and a second free() does nothing.
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
    // freed object that reached Wasm all the same (a static method given
    // one: `Visitor.decode(freedEngine, ...)`; instance methods are stopped
    // before, see `guardMethods`).
    at: '            throw new Error(getStringFromWasm0(arg0, arg1));\n',
    replace: '            throw thrownError(getStringFromWasm0(arg0, arg1));\n',
  },
  {
    // free() a second time does nothing (wasm-bindgen's would throw: a
    // cleanup path that frees again is harmless). Once per class (checked),
    // after the check of the receiver's class (see `guardMethods`).
    at: '        const ptr = this.__destroy_into_raw();\n',
    add: '        if (ptr === 0) return;\n',
    perClass: true,
  },
  {
    // `new Visitor(engine)` made an object with no visitor behind it, whose
    // first method call then said `freed`: visitors come from the engine, so
    // the constructor says so (`__wrap` makes them without it).
    at: 'export class Visitor {\n',
    add:
      '    constructor() {\n' +
      "        throw packageError('invalid_argument', 'a Visitor is not made with `new`',\n" +
      "            'make one with engine.visitor(id), or restore one with engine.decode(state) or Visitor.decode(engine, state)');\n" +
      '    }\n',
  },
  {
    // A class argument (`Visitor.decode(engine, ...)`): one that was freed is
    // `freed` before the call enters Wasm, and another module's (an engine
    // of `buyerpath/page` given to `buyerpath`) is `invalid_argument`.
    at:
      'function _assertClass(instance, klass) {\n' +
      '    if (!(instance instanceof klass)) {\n' +
      '        throw new Error(`expected instance of ${klass.name}`);\n' +
      '    }\n' +
      '}\n',
    replace:
      'function _assertClass(instance, klass) {\n' +
      '    if (!(instance instanceof klass)) {\n' +
      '        throw notAClass(instance, klass);\n' +
      '    }\n' +
      '    if (!instance.__wbg_ptr) throw freedError();\n' +
      '}\n',
  },
  {
    at: 'function passStringToWasm0(arg, malloc, realloc) {\n',
    add:
      '    if (typeof arg !== \'string\') throw notAString(arg);\n' +
      '    if (arg.length > MAX_TEXT) throw tooLong(arg);\n' +
      '    if (textHooks !== null && realloc !== undefined) {\n' +
      '        const done = textHooks.encode(arg, malloc, realloc, getUint8ArrayMemory0);\n' +
      '        if (done !== undefined) {\n' +
      '            WASM_VECTOR_LEN = done[1];\n' +
      '            return done[0];\n' +
      '        }\n' +
      '    }\n',
  },
];

// The package's errors for what the glue itself refuses, shaped as the
// engine's own (`code at path: message (hint)`, with `issues`).
const ERRORS =
  '\n// Added by scripts/glue-hooks.mjs: what the glue refuses is the package\'s error.\n' +
  'function packageError(code, message, hint) {\n' +
  '    const err = new Error(`${code} at $: ${message} (${hint})`);\n' +
  "    err.name = 'BuyerpathError';\n" +
  '    err.code = code;\n' +
  "    err.path = '$';\n" +
  '    err.hint = hint;\n' +
  "    err.issues = [{ code, path: '$', message, hint }];\n" +
  '    return err;\n' +
  '}\n' +
  // Every string argument crosses through passStringToWasm0: one that is
  // not a string (an object given to a *Json method, null, a number) would
  // otherwise reach Wasm memory as garbage (a trap, "memory access out of
  // bounds") or throw a TypeError naming the glue's internals.
  'function notAString(arg) {\n' +
  "    const t = Array.isArray(arg) ? 'array' : typeof arg;\n" +
  "    const found = arg === null || t === 'undefined' ? String(arg) : `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`;\n" +
  "    const hint = found === 'an object' || found === 'an array'\n" +
  "        ? 'pass a string: a *Json method takes JSON text (JSON.stringify(value)), and the same method without Json takes the object'\n" +
  "        : 'pass a string';\n" +
  "    return packageError('invalid_argument', `expected a string, found ${found}`, hint);\n" +
  '}\n' +
  // Text past every limit of the engine is refused before it is copied into
  // Wasm memory, which never shrinks: a hostile 100 MB event would otherwise
  // leave the module that much larger (and an edge isolate over its memory
  // limit) before the engine said no. The largest limit is a playbook's 4 MiB
  // of UTF-8, and a character is at least a byte: text over 4 Mi characters
  // is over every limit (and at most 12 MiB of UTF-8 is copied under it).
  'const MAX_TEXT = 4 * 1024 * 1024;\n' +
  'function tooLong(arg) {\n' +
  "    return packageError('input_too_large', `the text is ${arg.length} characters long; no input may be longer than 4,194,304 characters (4 Mi)`,\n" +
  "        'each input has a smaller limit (a playbook 4 MiB of JSON, an event 8 KiB, a state 8 KiB: see the Limits table in the README)');\n" +
  '}\n' +
  // `an Engine`, `a Visitor`.
  "const an = (name) => `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;\n" +
  // A class argument of another module (wasm-bindgen's "expected instance of").
  'function notAClass(instance, klass) {\n' +
  "    return packageError('invalid_argument', `expected ${an(klass.name)} of this module`,\n" +
  "        `pass ${an(klass.name)} made by the same import (buyerpath and buyerpath/page have separate Wasm memories; their objects do not mix)`);\n" +
  '}\n' +
  // A method called on an object that is not of its class
// (`Visitor.prototype.encode.call(engine)`): its pointer would reach Wasm as
// another type's, and trap or write over the heap. Thrown before the call.
'function wrongThis(self, klass) {\n' +
"    if (self instanceof klass) return freedError();\n" +
"    const other = self === null || self === undefined ? String(self) : (self.constructor && self.constructor.name) || typeof self;\n" +
"    if (other === klass.name) return packageError('invalid_argument', `this method belongs to this module's ${klass.name}: it was called on another module's ${klass.name}`,\n" +
"        'buyerpath and buyerpath/page have separate Wasm memories: call the method of the module that made the object');\n" +
"    return packageError('invalid_argument', `this method belongs to ${klass.name}: it was called on ${other}`,\n" +
"        `call it on ${an(klass.name)} (as ${klass.name.toLowerCase()}.method()), not through ${klass.name}.prototype on another object`);\n" +
'}\n' +
// An object used after free(). Thrown in JavaScript before the call
  // enters Wasm: an exception thrown inside Wasm skips the cleanup of what
  // the call had put there (the arguments' memory, a slot of the table of JS
  // values), and a host catching thousands of them would exhaust the module.
  'function freedError() {\n' +
  "    return packageError('freed', 'this object was freed (its free() was called, or a `using` block ended) and cannot be used',\n" +
  "        'make another: an Engine from its playbook (or Engine.fromBytes of buyerpath/page), a Visitor with engine.visitor(id) or engine.decode(state), a CompiledCondition from its condition');\n" +
  '}\n' +
  // What Rust threw: "null pointer passed to rust" is a freed object that
  // reached Wasm all the same.
  'function thrownError(message) {\n' +
  "    return message === 'null pointer passed to rust' ? freedError() : new Error(message);\n" +
  '}\n';

const HOOK =
  ERRORS +
  '\n// Added by scripts/glue-hooks.mjs: a runtime entry may install faster text crossings.\n' +
  'let textHooks = null;\n' +
  '/** @internal `{ decode(bytes) -> string | undefined, encode(text, malloc, realloc, memory) -> [ptr, len] | undefined }` */\n' +
  'export function __setTextHooks(hooks) {\n' +
  '    textHooks = hooks;\n' +
  '}\n';

// What the added code uses of the glue: each must be there exactly once too.
const USES = ['let WASM_VECTOR_LEN = 0;', 'function getUint8ArrayMemory0() {', 'ptr = realloc(ptr, len, offset, 1) >>> 0;'];

/** What each of the build's refusals ends with: the glue changed shape. */
const STALE = 'update scripts/glue-hooks.mjs for this wasm-bindgen version';

/** How many times `text` holds `part`. */
const count = (text, part) => text.split(part).length - 1;

/** The first line of an instance method, getter or setter in a class body (4 spaces in). */
const METHOD = /^ {4}(?:get |set )?([A-Za-z_$][\w$]*)\(.*\) \{$/;
/** Other lines 4 spaces into a class body: a doc comment's start, a static method, the end of a body. */
const OTHER = /^ {4}(?:\/\*\*|static |\})/;
/** Methods that run on a freed object as they are. */
const UNGUARDED = new Set(['constructor', 'free', '__destroy_into_raw']);
// `!ptr`: a freed object's is 0. `instanceof`: an object of another class
// (or none) has a pointer to something else, or none.
const GUARD = (cls) => `        if (!(this instanceof ${cls}) || !this.__wbg_ptr) throw wrongThis(this, ${cls});`;
// free() on a freed object does nothing (its pointer is 0), but on an object
// of another class it would run this class's destructor on that memory.
const FREE_GUARD = (cls) => `        if (!(this instanceof ${cls})) throw wrongThis(this, ${cls});`;

/**
 * Each instance method, getter and setter of each exported class starts with
 * a check that the object was not freed; throws when a class has none, or
 * when a class body holds a line of another shape (the glue's layout
 * changed: a method the check would miss).
 */
function guardMethods(glue) {
  const out = [];
  let cls = null;
  const guarded = new Map();
  for (const line of glue.split('\n')) {
    out.push(line);
    const start = /^export class (\w+) \{$/.exec(line);
    if (start) {
      cls = start[1];
      guarded.set(cls, 0);
    } else if (line === '}') {
      cls = null;
    } else if (cls !== null && /^ {4}\S/.test(line)) {
      const m = METHOD.exec(line);
      if (m && !UNGUARDED.has(m[1])) {
        out.push(GUARD(cls));
        guarded.set(cls, guarded.get(cls) + 1);
      } else if (m && m[1] === 'free') {
        out.push(FREE_GUARD(cls));
      } else if (!m && !OTHER.test(line)) {
        throw new Error(`glue-hooks: \`${line.trim()}\` in class ${cls} is not a method start this script knows; ${STALE}`);
      }
    }
  }
  const bare = [...guarded].filter(([, n]) => n === 0).map(([c]) => c);
  if (guarded.size === 0 || bare.length) {
    throw new Error(`glue-hooks: no methods found to guard against use after free() in ${bare.join(', ') || 'the glue (no exported class)'}; ${STALE}`);
  }
  return { text: out.join('\n'), classes: guarded.size };
}

/** `glue` with the text hook added; throws when a patch point or a name it uses is not there exactly once (once per class for a per-class one). */
export function addTextHooks(glue) {
  const { text, classes } = guardMethods(glue);
  for (const { at, perClass } of [...POINTS, ...USES.map((at) => ({ at }))]) {
    const n = count(text, at);
    const want = perClass ? classes : 1;
    if (n !== want) {
      throw new Error(`glue-hooks: \`${at.trim()}\` is in the wasm-bindgen glue ${n} times, not ${want}; ${STALE}`);
    }
  }
  let out = text;
  for (const { at, add, replace } of POINTS) out = out.split(at).join(replace ?? at + add);
  return out + HOOK;
}

/**
 * `glue` with each `import { ... } from './snippets/...'` line (the Rust
 * side's `inline_js`) replaced by the snippet's text, its `export`s dropped:
 * the package stays one glue file per module. `dir` is the glue's directory.
 * Throws when a snippet exports anything but the functions the glue imports
 * (`export function name(`), which this handles.
 */
export function inlineSnippets(glue, dir, read) {
  return glue.replace(/^import \{ ([\w, ]+) \} from '(\.\/snippets\/[^']+\.js)';$/gm, (line, names, path) => {
    const text = read(`${dir}/${path}`);
    const body = text.replace(/^export function /gm, 'function ');
    if (/\bexport\b/.test(body)) {
      throw new Error(`glue-hooks: the snippet ${path} exports something other than functions; ${STALE}`);
    }
    for (const name of names.split(',').map((n) => n.trim())) {
      if (!new RegExp(`^function ${name}\\(`, 'm').test(body)) {
        throw new Error(`glue-hooks: the snippet ${path} does not define \`${name}\` as an exported function; ${STALE}`);
      }
    }
    return `// Inlined from ${path.replace(/-[0-9a-f]{16}\//, '/')} (wasm-bindgen inline_js).\n${body.trim()}`;
  });
}
