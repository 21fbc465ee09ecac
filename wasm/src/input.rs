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
        if let Some(s) = JSON::stringify(v).ok().and_then(|s| s.as_string()) {
            return Ok(s);
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
