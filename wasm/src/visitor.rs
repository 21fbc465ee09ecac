//! `Visitor`: one visitor's state, kept in Wasm memory between calls.

use crate::error::{arg, to_js};
use crate::input::{json_text, to_object};
use js_sys::Reflect;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// A visitor handle.
#[wasm_bindgen(js_name = Visitor)]
pub struct WasmVisitor {
    engine: Rc<buyerpath::Engine>,
    inner: buyerpath::Visitor,
    last: Option<buyerpath::Decision>,
    /// Length of the last decision's JSON: the next one's buffer is sized to it
    /// (no regrowth while serializing).
    last_len: usize,
    migrated: bool,
}

impl WasmVisitor {
    pub(crate) fn wrap(
        engine: Rc<buyerpath::Engine>,
        inner: buyerpath::Visitor,
        migrated: bool,
    ) -> Self {
        WasmVisitor {
            engine,
            inner,
            last: None,
            last_len: 0,
            migrated,
        }
    }

    pub(crate) fn decode_with(
        engine: Rc<buyerpath::Engine>,
        state: &str,
        options: &JsValue,
    ) -> Result<WasmVisitor, JsValue> {
        check_options(options)?;
        let secret = secret_of(options)?;
        let key = secret.as_deref().map(str::as_bytes);
        let d = match idle_of(options)? {
            Some((now, max_idle_ms)) => engine.decode_at(state, key, now, max_idle_ms),
            None => engine.decode(state, key),
        }
        .map_err(|e| to_js(&e))?;
        Ok(WasmVisitor::wrap(engine, d.visitor, d.migrated))
    }
}

/// Text the engine's JSON writer produced (always UTF-8; an `internal`
/// error otherwise, never a panic).
fn written(out: Vec<u8>) -> Result<String, JsValue> {
    String::from_utf8(out).map_err(|e| arg("internal", "$", &e.to_string(), "report this"))
}

/// The options of `decode`.
const DECODE_OPTIONS: [&str; 3] = ["secret", "now", "maxIdleMs"];

/// `decode`'s options are nothing or an object of [`DECODE_OPTIONS`]: a
/// secret given as a bare string, or a misspelt key, would otherwise turn
/// the signature check off without a word.
fn check_options(options: &JsValue) -> Result<(), JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(());
    }
    let unreadable = |e: JsValue| {
        arg(
            "invalid_argument",
            "$",
            &format!(
                "the options cannot be read ({})",
                crate::input::message_of(&e)
            ),
            "pass a plain object: { secret, now, maxIdleMs } (each optional)",
        )
    };
    if !options.is_object() || crate::input::is_array(options).map_err(unreadable)? {
        let hint = if options.is_string() {
            "pass the secret as { secret: '...' }"
        } else {
            "pass { secret, now, maxIdleMs } (each optional) or nothing"
        };
        return Err(arg(
            "invalid_argument",
            "$",
            "the options must be an object",
            hint,
        ));
    }
    for key in crate::input::object_keys(options).map_err(unreadable)? {
        if !DECODE_OPTIONS.contains(&key.as_str()) {
            let hint = buyerpath::suggest::did_you_mean(&key, DECODE_OPTIONS)
                .unwrap_or_else(|| "the options are secret, now and maxIdleMs".to_string());
            return Err(arg(
                "invalid_argument",
                &buyerpath::error::key_path("$", &key),
                &format!("unknown option `{key}`"),
                &hint,
            ));
        }
    }
    Ok(())
}

fn secret_of(options: &JsValue) -> Result<Option<String>, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    let key = JsValue::from_str("secret");
    // Named at all, it must be a secret: `{ secret: process.env.SECRET }`
    // with the setting unset must not read unsigned states unchecked. An
    // option JavaScript cannot read (a Proxy trap or a getter that throws)
    // is refused, never taken as "no secret".
    if !Reflect::has(options, &key).map_err(|e| unreadable_option("secret", &e))? {
        return Ok(None);
    }
    let s =
        crate::input::read_key(options, "secret").map_err(|e| unreadable_option("secret", &e))?;
    secret_text(&s, "$.secret")?.map(Some).ok_or_else(|| {
        arg(
            "invalid_argument",
            "$.secret",
            "the secret must be a non-empty string",
            "read from a setting that is not set? set it, or leave `secret` out to read unsigned states",
        )
    })
}

/// The `invalid_argument` error of option `name`, which JavaScript threw on
/// reading (`thrown`), with JavaScript's reason.
fn unreadable_option(name: &str, thrown: &JsValue) -> JsValue {
    arg(
        "invalid_argument",
        &buyerpath::error::key_path("$", name),
        &format!(
            "the option `{name}` cannot be read ({})",
            crate::input::message_of(thrown)
        ),
        "pass a plain object: { secret, now, maxIdleMs } (each optional)",
    )
}

/// A secret given as `v`: `None` unless it is a non-empty string. A string
/// with an unpaired surrogate is refused (at `path`): on its way into Wasm
/// each becomes U+FFFD, so different secrets would sign alike.
fn secret_text(v: &JsValue, path: &str) -> Result<Option<String>, JsValue> {
    let Some(text) = crate::input::string_of(v, path)?.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    // Only a string that reads with U+FFFD may have had one: the exact check
    // (one call a code unit) is paid only then.
    if text.contains('\u{FFFD}') && !js_sys::JsString::from(v.clone()).is_valid_utf16() {
        return Err(arg(
            "invalid_argument",
            path,
            "the secret is not valid Unicode (it has an unpaired surrogate)",
            "use a secret of whole characters, such as random bytes in hex or base64",
        ));
    }
    Ok(Some(text))
}

/// `{ now, maxIdleMs }`: both (refuse a state idle longer than that), or neither.
fn idle_of(options: &JsValue) -> Result<Option<(u64, u64)>, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    let get = |k: &str| crate::input::read_key(options, k).map_err(|e| unreadable_option(k, &e));
    let (now, max) = (get("now")?, get("maxIdleMs")?);
    if now.is_undefined() && max.is_undefined() {
        return Ok(None);
    }
    let ms = |v: &JsValue| {
        v.as_f64()
            .filter(|x| x.is_finite() && *x >= 0.0 && *x <= 9.0e15)
            .map(|x| x as u64)
    };
    match (ms(&now), ms(&max)) {
        (Some(n), Some(m)) => Ok(Some((n, m))),
        // The path names the option that is wrong (`now` first).
        (n, _) => Err(arg(
            "invalid_argument",
            if n.is_none() { "$.now" } else { "$.maxIdleMs" },
            "`now` and `maxIdleMs` go together, as milliseconds ≥ 0",
            "pass { secret, now: Date.now(), maxIdleMs: 180 * 86400000 } or neither",
        )),
    }
}

#[wasm_bindgen(js_class = Visitor)]
impl WasmVisitor {
    /// Restores a visitor: `Visitor.decode(engine, state, { secret })`.
    pub fn decode(
        engine: &crate::engine::WasmEngine,
        state: &str,
        options: &JsValue,
    ) -> Result<WasmVisitor, JsValue> {
        WasmVisitor::decode_with(engine.inner.clone(), state, options)
    }

    /// The anonymous visitor id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_string()
    }

    /// When the visitor was last active (ms since the epoch; 0: never).
    #[wasm_bindgen(getter, js_name = lastActive)]
    pub fn last_active(&self) -> f64 {
        self.inner.last_active() as f64
    }

    /// True when the state was written by another revision of the playbook and migrated.
    #[wasm_bindgen(getter)]
    pub fn migrated(&self) -> bool {
        self.migrated
    }

    /// Folds an event (object or JSON string) into the state; returns what it did.
    pub fn observe(&mut self, event: &JsValue) -> Result<JsValue, JsValue> {
        let text = json_text(event, "the event")?;
        self.observe_json(&text).map(|s| to_object(&s))
    }

    /// `observe` with JSON text in and out.
    #[wasm_bindgen(js_name = observeJson)]
    pub fn observe_json(&mut self, event: &str) -> Result<String, JsValue> {
        let o = self
            .engine
            .observe_json(&mut self.inner, event)
            .map_err(|e| to_js(&e))?;
        let mut out = Vec::with_capacity(64);
        buyerpath::decision_json::write_observed(&o, &mut out);
        written(out)
    }

    /// `observeJson` without its answer: folds the event (JSON text) into
    /// the state and returns nothing (no answer written, handed over or
    /// decoded), for callers that do not read it (the edge worker). Same
    /// errors.
    #[wasm_bindgen(js_name = recordJson)]
    pub fn record_json(&mut self, event: &str) -> Result<(), JsValue> {
        self.engine
            .observe_json(&mut self.inner, event)
            .map(drop)
            .map_err(|e| to_js(&e))
    }

    /// Decides for `{ now, slots, context, detail? }` (object or JSON string); returns the decision object.
    pub fn decide(&mut self, request: &JsValue) -> Result<JsValue, JsValue> {
        let text = json_text(request, "the decide request")?;
        self.decide_json(&text).map(|s| to_object(&s))
    }

    /// `decide` with JSON text in and out (the exact bytes every runtime reproduces).
    #[wasm_bindgen(js_name = decideJson)]
    pub fn decide_json(&mut self, request: &str) -> Result<String, JsValue> {
        let req = buyerpath::DecideRequest::from_json(request).map_err(|e| to_js(&e))?;
        let d = self
            .engine
            .decide(&mut self.inner, &req)
            .map_err(|e| to_js(&e))?;
        let mut out = Vec::with_capacity(self.last_len.max(2048) + 512);
        buyerpath::decision_json::write_as(&d, req.detail, &mut out);
        if req.detail.is_full() {
            // A brief answer would size the next full one's buffer too small.
            self.last_len = out.len();
        }
        self.last = Some(d);
        written(out)
    }

    /// Gates, fit and engagement only (JSON text in and out), as `decide`
    /// would report them; the state is not changed and nothing is emitted.
    #[wasm_bindgen(js_name = scoreJson)]
    pub fn score_json(&self, request: &str) -> Result<String, JsValue> {
        let req = buyerpath::DecideRequest::from_json(request).map_err(|e| to_js(&e))?;
        let mut out = Vec::with_capacity(2048);
        buyerpath::decision_json::write_scores(
            &self.engine.score(&self.inner, &req),
            req.detail,
            &mut out,
        );
        written(out)
    }

    /// The state as a cookie-safe string; signed with `secret` when given
    /// (an empty secret is refused, as `decode` refuses it: a server whose
    /// secret is unset must not write unsigned states without a word).
    pub fn encode(&self, secret: &JsValue) -> Result<String, JsValue> {
        let secret = if secret.is_undefined() || secret.is_null() {
            None
        } else if !secret.is_string() {
            return Err(arg(
                "invalid_argument",
                "$",
                &format!(
                    "expected a string, found {}",
                    crate::input::found_of(secret)
                ),
                "pass a secret, or nothing for an unsigned state",
            ));
        } else {
            Some(secret_text(secret, "$")?.ok_or_else(|| {
                arg(
                    "invalid_argument",
                    "$",
                    "the secret must be a non-empty string",
                    "pass a secret, or nothing for an unsigned state",
                )
            })?)
        };
        Ok(self
            .engine
            .encode(&self.inner, secret.as_deref().map(str::as_bytes)))
    }

    /// The last decision as a readable report (empty before the first decision).
    pub fn explain(&self) -> String {
        self.last
            .as_ref()
            .map(buyerpath::explain::explain)
            .unwrap_or_default()
    }
}

/// Boundary-format measurement only (feature `boundary-bench`): the same
/// calls with serde-wasm-bindgen objects instead of one JSON string.
#[cfg(feature = "boundary-bench")]
#[wasm_bindgen(js_class = Visitor)]
impl WasmVisitor {
    /// decide with serde-wasm-bindgen in and out.
    #[wasm_bindgen(js_name = decideSwb)]
    pub fn decide_swb(&mut self, request: JsValue) -> Result<JsValue, JsValue> {
        let req: buyerpath::DecideRequest = serde_wasm_bindgen::from_value(request)
            .map_err(|e| arg("invalid_argument", "$", &e.to_string(), ""))?;
        let req = req.check().map_err(|e| to_js(&e))?;
        let d = self
            .engine
            .decide(&mut self.inner, &req)
            .map_err(|e| to_js(&e))?;
        let ser = serde_wasm_bindgen::Serializer::json_compatible();
        serde::Serialize::serialize(&d, &ser).map_err(|e| arg("internal", "$", &e.to_string(), ""))
    }
}
