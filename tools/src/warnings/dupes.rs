//! A key given twice in one object (`"revision": 2, ..., "revision": 3`).
//! JSON leaves what a reader does with it open (RFC 8259 §4); the engine
//! uses one of them (the last of a field; the first of a named list), so
//! the other is dropped without a word: often a block pasted twice, or
//! edited in one place and not the other.

use super::Warning;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

/// Every key repeated within one object, once per key, in document order
/// of its second appearance. Text that is not JSON gives none (the engine
/// reports it).
pub fn repeated_keys(text: &str) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let walked = Walk {
        path: "$".into(),
        out: &mut out,
    }
    .deserialize(&mut de);
    if walked.is_err() {
        return Vec::new();
    }
    out
}

/// One value to walk: where it is, and where to put what is found.
struct Walk<'a> {
    path: String,
    out: &'a mut Vec<Warning>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while seq
            .next_element_seed(Walk {
                path: format!("{}[{i}]", self.path),
                out: &mut *self.out,
            })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Each key's count; a key is reported when it is met the second time.
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let here = format!("{}.{key}", self.path);
            let n = seen.entry(key.clone()).or_insert(0);
            *n += 1;
            if *n == 2 {
                self.out.push(Warning::new(
                    "repeated_key",
                    here.clone(),
                    format!(
                        "`{key}` is given more than once in this object: the engine uses one of them and ignores the others without a word"
                    ),
                    format!("keep one `{key}` (merge the two if both hold something you meant)"),
                ));
            }
            map.next_value_seed(Walk {
                path: here,
                out: &mut *self.out,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_found_at_any_depth_once_each() {
        let text = r#"{"revision": 1, "content": [{"id": "a", "stages": ["x"], "stages": ["y"], "stages": []}],
            "revision": 2, "slots": {"hero": {}, "cta": {}}}"#;
        let w: Vec<(String, &str)> = repeated_keys(text)
            .into_iter()
            .map(|w| (w.path, w.code))
            .collect();
        assert_eq!(
            w,
            [
                ("$.content[0].stages".to_string(), "repeated_key"),
                ("$.revision".to_string(), "repeated_key")
            ]
        );
        assert!(repeated_keys(r#"{"a": {"b": 1}, "c": {"b": 2}}"#).is_empty());
        assert!(repeated_keys("{not json").is_empty());
    }
}
