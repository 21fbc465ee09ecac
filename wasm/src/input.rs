//! Arguments that may be a JSON string or a plain object: both become JSON
//! text for the core's strict parsers (one code path, the same errors).

use js_sys::JSON;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

// JavaScript calls that can throw on what a caller passes, declared so that
// the throw comes back as `Err`. js-sys's bindings of them let it unwind
// through Wasm, which skips the cleanup of the call in progress (the memory
// and JS-value slots its arguments hold): a host catching a few thousand
// such errors would exhaust the module.
#[wasm_bindgen]
extern "C" {
    /// `Object.keys(value)`; a Proxy's `ownKeys` trap or a revoked Proxy throws.
    /// (The keys come back as strings, not as a JS array: an import that
    /// returns a JS value leaks a slot of the module's JS-value table each
    /// time it throws, and a host catching millions would exhaust it.)
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    pub fn object_keys(value: &JsValue) -> Result<Vec<String>, JsValue>;
    /// `JSON.stringify(value)` as text (`None`: nothing to write, such as a
    /// function); a cycle, a BigInt or a throwing `toJSON` throws. Text, not
    /// a JS string, for the reason above.
    #[wasm_bindgen(catch, js_namespace = JSON, js_name = stringify)]
    fn stringify(value: &JsValue) -> Result<Option<String>, JsValue>;
    /// `Array.isArray(value)`; a revoked Proxy throws.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    pub fn is_array(value: &JsValue) -> Result<bool, JsValue>;
}

// `Reflect.get` and `new Uint8Array` that never throw: what a getter, a Proxy
// trap or a detached buffer throws comes back inside the answer. Declared
// with `catch`, an import returning a JS value leaks a slot of the module's
// JS-value table each time it throws (wasm-bindgen 0.2.130 never frees the
// slot of the value it did not return), and a host catching millions of
// throws from an option's getter would exhaust it.
// scripts/build-pkg.mjs inlines this snippet into the glue.
#[wasm_bindgen(
    inline_js = "export function bp_read(o, k) { try { return { v: Reflect.get(o, k), threw: false }; } catch (e) { return { e, threw: true }; } }\nexport function bp_bytes(b, o, l) { try { return { v: o === undefined ? new Uint8Array(b) : new Uint8Array(b, o, l), threw: false }; } catch (e) { return { e, threw: true }; } }"
)]
extern "C" {
    fn bp_read(target: &JsValue, key: &str) -> JsValue;
    #[cfg(feature = "compiled")]
    fn bp_bytes(buffer: &JsValue, offset: Option<f64>, length: Option<f64>) -> JsValue;
}

/// The snippet's answer: its `v`, or what was thrown (`e`) as `Err`.
fn answer(answer: &JsValue) -> Result<JsValue, JsValue> {
    // Reading the plain object the snippet made cannot throw (its own
    // fields: a getter put on `Object.prototype` is never reached).
    let field =
        |k: &str| js_sys::Reflect::get(answer, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    if field("threw").is_truthy() {
        Err(field("e"))
    } else {
        Ok(field("v"))
    }
}

/// `target[key]` as JavaScript reads it (getters and Proxy traps run), with
/// what it threw as `Err`; `target` must be an object (a primitive reads as
/// `Err` too: `Reflect.get` throws on it).
pub fn read_key(target: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    answer(&bp_read(target, key))
}

/// `new Uint8Array(buffer, offset, length)`, or `new Uint8Array(buffer)`
/// without `offset`; what it threw (a detached buffer, a length past the
/// buffer's) as `Err`.
#[cfg(feature = "compiled")]
fn bytes(buffer: &JsValue, at: Option<(f64, f64)>) -> Result<JsValue, JsValue> {
    answer(&bp_bytes(buffer, at.map(|a| a.0), at.map(|a| a.1)))
}

/// The longest text (UTF-16 code units) the package takes: the glue's
/// `MAX_TEXT` (scripts/glue-hooks.mjs).
const MAX_TEXT: u32 = 4 * 1024 * 1024;

/// The text of `v` when it is a JavaScript string (`Ok(None)` otherwise),
/// refused past `MAX_TEXT` before it is copied: the glue refuses such a copy
/// by throwing inside this call, which would never end (the object it runs
/// on stays borrowed, its JS-value slots taken, until the module breaks).
pub fn string_of(v: &JsValue, path: &str) -> Result<Option<String>, JsValue> {
    use wasm_bindgen::JsCast;
    let Some(s) = v.dyn_ref::<js_sys::JsString>() else {
        return Ok(None);
    };
    if s.length() > MAX_TEXT {
        return Err(crate::error::arg(
            "input_too_large",
            path,
            "the text is longer than 4,194,304 characters (4 Mi), more than any input may be",
            "each input has a smaller limit (a playbook 4 MiB of JSON, an event 8 KiB, a state 8 KiB: see the Limits table in the README)",
        ));
    }
    Ok(v.as_string())
}

/// JSON text of a string or object argument.
pub fn json_text(v: &JsValue, what: &str) -> Result<String, JsValue> {
    if let Some(s) = string_of(v, "$")? {
        return Ok(s);
    }
    if v.is_object() {
        match stringify(v) {
            Ok(Some(s)) => return Ok(s),
            Ok(None) => {}
            // A cycle, a BigInt, nesting past the JS stack: an object, but
            // not one that can be written as JSON. Said so, with V8's reason.
            // Its text past the package's limit: said as for a string.
            Err(e) if message_of(&e).starts_with("input_too_large") => return Err(e),
            Err(e) => {
                return Err(crate::error::arg(
                    "invalid_argument",
                    "$",
                    &format!("{what} cannot be written as JSON: {}", message_of(&e)),
                    "pass plain data: no cycles, no BigInt values, no toJSON or getter that calls buyerpath, no deeper nesting than the engine takes",
                ));
            }
        }
    }
    Err(crate::error::arg(
        "invalid_argument",
        "$",
        &format!("{what} must be a JSON string or a plain object"),
        "pass the object itself or JSON.stringify(it)",
    ))
}

/// How an argument is named in a wrong-type error, as the glue names it
/// (`a number`, `an object`, `an array`, `null`).
pub fn found_of(v: &JsValue) -> String {
    if v.is_null() || v.is_undefined() {
        return if v.is_null() { "null" } else { "undefined" }.to_string();
    }
    let t = if is_array(v).unwrap_or(false) {
        "array".to_string()
    } else {
        v.js_typeof().as_string().unwrap_or_default()
    };
    let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {t}")
}

/// What a JavaScript throw says: its `message`, or the thrown string
/// itself (a `toJSON` or a Proxy trap may throw anything).
pub fn message_of(thrown: &JsValue) -> String {
    // `Reflect.get` throws on anything but an object (a thrown `null`, a
    // string): only objects are asked.
    thrown
        .is_object()
        .then(|| read_key(thrown, "message").ok())
        .flatten()
        .and_then(|m| string_of(&m, "$").ok().flatten())
        .or_else(|| string_of(thrown, "$").ok().flatten())
        .unwrap_or_else(|| "it threw".to_string())
}

/// JSON text → JS value (one native `JSON.parse` beats building the object field by field).
pub fn to_object(json: &str) -> JsValue {
    JSON::parse(json).unwrap_or(JsValue::NULL)
}

/// The bytes of an `ArrayBuffer` or of a view over one (a typed array, a
/// Node `Buffer`, a `DataView`), as a `Uint8Array` over the same memory;
/// `Ok(None)` for anything else, `Err` with JavaScript's error when the
/// bytes cannot be read (a buffer detached by a transfer). Views are found
/// by `ArrayBuffer.isView` and buffers by their `byteLength` as well as by
/// `instanceof`, so bytes from another realm (an iframe, a `vm` context) are
/// accepted.
#[cfg(feature = "compiled")]
pub fn byte_view(v: &JsValue) -> Result<Option<js_sys::Uint8Array>, JsValue> {
    use js_sys::ArrayBuffer;
    use wasm_bindgen::JsCast;
    let num = |key: &str| read_key(v, key).ok().and_then(|x| x.as_f64());
    if ArrayBuffer::is_view(v) {
        let Ok(buffer) = read_key(v, "buffer") else {
            return Ok(None);
        };
        let (Some(offset), Some(len)) = (num("byteOffset"), num("byteLength")) else {
            return Ok(None);
        };
        if len == 0.0 {
            return Err(no_bytes());
        }
        return bytes(&buffer, Some((offset, len))).map(|b| Some(b.unchecked_into()));
    }
    let buffer =
        v.is_instance_of::<ArrayBuffer>() || (v.is_object() && num("byteLength").is_some());
    if buffer {
        if num("byteLength") == Some(0.0) {
            return Err(no_bytes());
        }
        bytes(v, None).map(|b| Some(b.unchecked_into()))
    } else {
        Ok(None)
    }
}

/// No bytes to read: a buffer detached by a transfer has none, and is told
/// apart here, before `new Uint8Array` would throw (each throw of an import
/// that returns a JS value leaks a slot of the module's table).
#[cfg(feature = "compiled")]
fn no_bytes() -> JsValue {
    JsValue::from_str("no bytes: detached by a transfer, or empty")
}
