//! `Condition`: one condition of the playbook language (GrowthBook/MongoDB
//! style), compiled once and evaluated against attribute documents; and
//! `evalCondition`, the one-shot form GrowthBook's SDK offers.

use crate::error::to_js;
use crate::input::json_text;
use buyerpath::condition::{CompileCtx, Condition};
use buyerpath::lists::Lists;
use wasm_bindgen::prelude::*;

/// A compiled condition.
#[wasm_bindgen(js_name = CompiledCondition)]
pub struct WasmCondition {
    inner: Condition,
    lists: Lists,
}

#[wasm_bindgen(js_class = CompiledCondition)]
impl WasmCondition {
    /// Compiles a condition (JSON string or object) strictly: throws every
    /// problem at once (an unknown operator, an operand of the wrong type).
    #[wasm_bindgen(constructor)]
    pub fn new(condition: &JsValue) -> Result<WasmCondition, JsValue> {
        Ok(WasmCondition {
            inner: compile(condition)?,
            lists: Lists::new(),
        })
    }

    /// Whether the attributes (JSON string or object) satisfy the condition.
    pub fn eval(&self, attributes: &JsValue) -> Result<bool, JsValue> {
        Ok(self.inner.eval(
            &json_value(attributes, "the attributes", "invalid_value")?,
            &self.lists,
        ))
    }
}

/// Compiles and evaluates a condition once: `evalCondition(attributes, condition)`,
/// the argument order and the leniency of GrowthBook's `evalCondition` (an
/// operator used wrongly makes its test false instead of throwing).
#[wasm_bindgen(js_name = evalCondition)]
pub fn eval_condition(attributes: &JsValue, condition: &JsValue) -> Result<bool, JsValue> {
    let (c, _) = Condition::compile(
        &json_value(condition, "the condition", "condition_too_deep")?,
        "$",
        &CompileCtx::default(),
    );
    Ok(c.eval(
        &json_value(attributes, "the attributes", "invalid_value")?,
        &Lists::new(),
    ))
}

/// Strict compilation: every problem of the condition is an error.
fn compile(condition: &JsValue) -> Result<Condition, JsValue> {
    let value = json_value(condition, "the condition", "condition_too_deep")?;
    let (c, issues) = Condition::compile(&value, "$", &CompileCtx::default());
    if issues.is_empty() {
        Ok(c)
    } else {
        Err(to_js(&buyerpath::Error { issues }))
    }
}

/// `v` (JSON text or an object) as a JSON value; nested past what
/// serde_json reads, it is `deep_code` (the condition's own limit, or the
/// attributes' value being too deep).
fn json_value(v: &JsValue, what: &str, deep_code: &str) -> Result<serde_json::Value, JsValue> {
    let text = json_text(v, what)?;
    buyerpath::json::value_from_str(&text)
        .map_err(|e| to_js(&buyerpath::json::syntax_issue(&text, "$", &e, deep_code).into()))
}
