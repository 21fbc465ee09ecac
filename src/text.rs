//! Shared immutable text. The engine's ids, labels, titles and URLs are put
//! into every decision (and its signals) by reference, not copied: a decision
//! names ~100 of them, and copying each cost an allocation to make and another
//! to free. Fixed words (`otherwise`, `unknown`, a gate's kind) are borrowed
//! from the program and cost nothing.

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A string shared by reference count, or a `'static` one; read it as `&str`.
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Text {
    /// A fixed word: no allocation.
    pub const fn lit(s: &'static str) -> Text {
        Text(Repr::Static(s))
    }

    /// The text, as a string slice.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(s) => s,
            Repr::Shared(s) => s,
        }
    }
}

impl Clone for Text {
    /// One out-of-line clone for the crate (inlined at every site it would
    /// add ~6 KB of Wasm).
    #[inline(never)]
    fn clone(&self) -> Text {
        Text(self.0.clone())
    }
}

impl Default for Text {
    fn default() -> Text {
        Text::lit("")
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text(Repr::Shared(Arc::from(s)))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(Repr::Shared(Arc::from(s)))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Text {
        Text::from(s.as_str())
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.as_str().to_string()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    /// As a `str` (width, fill and alignment included).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Read straight from the JSON text into shared text: a playbook's ids,
/// titles and URLs are then kept by the engine as read (one allocation each,
/// no `String` made, copied and freed). Errors read as a `String`'s do.
impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text, E> {
                Ok(Text::from(s))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// The playbook schema sees a string.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Text {
    fn schema_name() -> String {
        String::schema_name()
    }
    fn json_schema(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        String::json_schema(generator)
    }
    fn is_referenceable() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::Text;

    #[test]
    fn reads_compares_and_serializes_as_its_string() {
        let shared = Text::from("pricing-guide");
        let copy = shared.clone();
        assert_eq!(copy, "pricing-guide");
        assert_eq!(copy, Text::lit("pricing-guide"));
        assert_ne!(copy, Text::lit("pricing"));
        assert!(Text::lit("a") < Text::lit("b"));
        assert_eq!(copy.len(), 13);
        assert_eq!(
            format!("{copy} {copy:?}"),
            "pricing-guide \"pricing-guide\""
        );
        // Width and alignment as for a `str` (the explain report's columns).
        assert_eq!(
            format!("[{:<6}|{:>4}]", Text::lit("ab"), Text::from("c")),
            "[ab    |   c]"
        );
        assert_eq!(
            serde_json::to_string(&[Text::lit("x\"y"), shared])
                .ok()
                .as_deref(),
            Some(r#"["x\"y","pricing-guide"]"#)
        );
        assert_eq!(Text::default(), "");
    }
}
