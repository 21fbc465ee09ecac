//! Arguments that may be a JSON string or a plain object: both become JSON
//! text for the core's strict parsers (one code path, the same errors).

use js_sys::JSON;
use wasm_bindgen::JsValue;

/// JSON text of a string or object argument.
pub fn json_text(v: &JsValue, what: &str) -> Result<String, JsValue> {
    if let Some(s) = v.as_string() {
        return Ok(s);
    }
    if v.is_object() {
        match JSON::stringify(v) {
            Ok(s) => {
                if let Some(s) = s.as_string() {
                    return Ok(s);
                }
            }
            // A cycle, a BigInt, nesting past the JS stack: an object, but
            // not one that can be written as JSON. Said so, with V8's reason.
            Err(e) => {
                // What was thrown may be anything (a toJSON may throw a string).
                let why = js_sys::Reflect::get(&e, &JsValue::from_str("message"))
                    .ok()
                    .and_then(|m| m.as_string())
                    .or_else(|| e.as_string())
                    .unwrap_or_else(|| "stringify threw".to_string());
                return Err(crate::error::arg(
                    "invalid_argument",
                    "$",
                    &format!("{what} cannot be written as JSON: {why}"),
                    "pass plain data: no cycles, no BigInt values, no deeper nesting than the engine takes",
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

/// JSON text → JS value (one native `JSON.parse` beats building the object field by field).
pub fn to_object(json: &str) -> JsValue {
    JSON::parse(json).unwrap_or(JsValue::NULL)
}

/// The bytes of an `ArrayBuffer` or of a view over one (a typed array, a
/// Node `Buffer`, a `DataView`), as a `Uint8Array` over the same memory;
/// `None` for anything else. Views are found by `ArrayBuffer.isView` and
/// buffers by their `byteLength` as well as by `instanceof`, so bytes from
/// another realm (an iframe, a `vm` context) are accepted.
#[cfg(feature = "compiled")]
pub fn byte_view(v: &JsValue) -> Option<js_sys::Uint8Array> {
    use js_sys::{ArrayBuffer, Reflect, Uint8Array};
    use wasm_bindgen::JsCast;
    let num = |key: &str| {
        Reflect::get(v, &JsValue::from_str(key))
            .ok()
            .and_then(|x| x.as_f64())
    };
    if ArrayBuffer::is_view(v) {
        let buffer = Reflect::get(v, &JsValue::from_str("buffer")).ok()?;
        let (offset, len) = (num("byteOffset")?, num("byteLength")?);
        return Some(Uint8Array::new_with_byte_offset_and_length(
            &buffer,
            offset as u32,
            len as u32,
        ));
    }
    let buffer =
        v.is_instance_of::<ArrayBuffer>() || (v.is_object() && num("byteLength").is_some());
    buffer.then(|| Uint8Array::new(v))
}
