//! `Engine`: a playbook compiled once, shared by every visitor.

use crate::error::to_js;
#[cfg(feature = "compiler")]
use crate::input::json_text;
use crate::visitor::WasmVisitor;
#[cfg(feature = "compiled")]
use buyerpath::engine::compiled::{check_header, HEADER_MAX};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// A compiled playbook.
#[wasm_bindgen(js_name = Engine)]
pub struct WasmEngine {
    pub(crate) inner: Rc<buyerpath::Engine>,
}

#[wasm_bindgen(js_class = Engine)]
impl WasmEngine {
    /// Compiles a playbook (JSON string or object); throws every problem at once.
    #[cfg(feature = "compiler")]
    #[wasm_bindgen(constructor)]
    pub fn new(playbook: &JsValue) -> Result<WasmEngine, JsValue> {
        let text = json_text(playbook, "the playbook")?;
        let inner = buyerpath::Engine::from_json(&text).map_err(|e| to_js(&e))?;
        Ok(WasmEngine {
            inner: Rc::new(inner),
        })
    }

    /// Loads an engine compiled ahead by `buyerpath compile` (the file's
    /// bytes, from the same version: a `Uint8Array`, a Node `Buffer`, any
    /// typed array or `DataView` over them, or an `ArrayBuffer`, from any
    /// realm); throws `engine_file_invalid`, `engine_file_version` or
    /// `invalid_argument`.
    #[cfg(feature = "compiled")]
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &JsValue) -> Result<WasmEngine, JsValue> {
        let bytes = crate::input::byte_view(bytes)
            .map_err(|e| {
                crate::error::arg(
                    "invalid_argument",
                    "$",
                    &format!(
                        "the engine file's bytes cannot be read ({})",
                        crate::input::message_of(&e)
                    ),
                    "pass bytes that are still there: a buffer transferred to a worker or detached is empty here",
                )
            })?
            .ok_or_else(|| {
                crate::error::arg(
                    "invalid_argument",
                    "$",
                    "the engine file must be a Uint8Array or an ArrayBuffer",
                    "pass the bytes of `buyerpath compile`'s file, e.g. `new Uint8Array(await response.arrayBuffer())`",
                )
            })?;
        // The header first, from a copy of its few bytes: a buffer that is
        // no engine file of this version (of any size) is refused before
        // it is copied into Wasm memory, which never shrinks.
        let head = bytes.length().min(HEADER_MAX as u32);
        check_header(&bytes.subarray(0, head).to_vec()).map_err(|e| to_js(&e))?;
        let bytes = bytes.to_vec();
        let inner = buyerpath::Engine::from_bytes(&bytes).map_err(|e| to_js(&e))?;
        Ok(WasmEngine {
            inner: Rc::new(inner),
        })
    }

    /// A fresh visitor with an anonymous id.
    pub fn visitor(&self, id: &str) -> Result<WasmVisitor, JsValue> {
        let v = self.inner.visitor(id).map_err(|e| to_js(&e))?;
        Ok(WasmVisitor::wrap(self.inner.clone(), v, false))
    }

    /// Restores a visitor from `encode()`'s string; `{ secret }` requires a valid signature.
    pub fn decode(&self, state: &str, options: &JsValue) -> Result<WasmVisitor, JsValue> {
        WasmVisitor::decode_with(self.inner.clone(), state, options)
    }

    /// The playbook id.
    #[wasm_bindgen(getter, js_name = playbookId)]
    pub fn playbook_id(&self) -> String {
        self.inner.playbook_id().to_string()
    }

    /// The playbook revision.
    #[wasm_bindgen(getter)]
    pub fn revision(&self) -> u32 {
        self.inner.revision()
    }

    /// Each catalogue item's `[url, id]`, in playbook order (a request's
    /// path to the page's `content_id`).
    #[wasm_bindgen(js_name = contentUrls)]
    pub fn content_urls(&self) -> js_sys::Array {
        self.inner
            .content_urls()
            .into_iter()
            .map(|(url, id)| js_sys::Array::of2(&JsValue::from_str(url), &JsValue::from_str(id)))
            .collect()
    }

    /// Slot ids, in playbook order.
    #[wasm_bindgen(getter)]
    pub fn slots(&self) -> Vec<String> {
        self.inner
            .slot_ids()
            .into_iter()
            .map(str::to_string)
            .collect()
    }
}
