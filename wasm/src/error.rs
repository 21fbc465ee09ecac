//! buyerpath errors as JavaScript `Error`s carrying `code`, `path`, `hint`
//! and the full `issues` list.

use js_sys::{Error as JsErr, Reflect, JSON};
use wasm_bindgen::JsValue;

/// Converts an engine error into a thrown JS value.
pub fn to_js(e: &buyerpath::Error) -> JsValue {
    let err = JsErr::new(&e.to_string());
    err.set_name("BuyerpathError");
    let first = e.issues.first();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&err, &JsValue::from_str(k), &v);
    };
    set("code", JsValue::from_str(e.code()));
    set("path", JsValue::from_str(e.path()));
    set(
        "hint",
        first
            .and_then(|i| i.hint.as_deref())
            .map(JsValue::from_str)
            .unwrap_or(JsValue::NULL),
    );
    let issues = serde_json::to_string(&e.issues)
        .ok()
        .and_then(|s| JSON::parse(&s).ok())
        .unwrap_or(JsValue::NULL);
    set("issues", issues);
    err.into()
}

/// An error of the bindings themselves (bad argument type).
pub fn arg(code: &str, path: &str, message: &str, hint: &str) -> JsValue {
    to_js(&buyerpath::Issue::new(code, path, message).hint(hint).into())
}
