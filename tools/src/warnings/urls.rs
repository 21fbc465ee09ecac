//! Catalogue URLs a page is never matched to. The browser layer and the edge
//! take a page that names no content id to be the item whose `url` is its
//! path: an item whose URL is not a root-relative path (`https://…`,
//! `pricing`), or that another item's URL takes first, is only ever reached
//! by a page naming its id.

use super::Warning;
use serde_json::Value;
use std::collections::BTreeMap;

/// Warnings for the catalogue's unmatchable URLs, in catalogue order.
pub fn unroutable(playbook: &Value) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut first: BTreeMap<&str, &str> = BTreeMap::new();
    let items = playbook.get("content").and_then(Value::as_array);
    for (i, item) in items.into_iter().flatten().enumerate() {
        let (Some(id), Some(url)) = (
            item.get("id").and_then(Value::as_str),
            item.get("url").and_then(Value::as_str),
        ) else {
            continue;
        };
        let path = format!("$.content[{i}].url");
        if url.is_empty() {
            continue;
        }
        if !url.starts_with('/') || url.starts_with("//") {
            out.push(Warning::new(
                "url_not_a_path",
                path,
                format!("`{url}` is not a path on the site: a page is matched to `{id}` only when it names it"),
                "write the item's page as a root-relative path (`/pricing`), or name the item in the page's <meta name=\"buyerpath:content\">".to_string(),
            ));
            continue;
        }
        let key = url.split(['?', '#']).next().unwrap_or(url);
        if let Some(other) = first.get(key) {
            out.push(Warning::new(
                "url_shared",
                path,
                format!("`{key}` is also `{other}`'s URL, which comes first: a page at it that names no content id is `{other}`"),
                format!("name `{id}` in its page's <meta name=\"buyerpath:content\">, or give it its own URL"),
            ));
        } else {
            first.insert(key, id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absolute_and_shared_urls_are_flagged_and_paths_pass() {
        let p = json!({"content": [
            {"id": "pricing", "url": "/pricing"},
            {"id": "roi", "url": "/pricing?tab=roi"},
            {"id": "away", "url": "https://other.example/x"},
            {"id": "none", "url": ""},
            {"id": "post", "url": "/blog/post"}
        ]});
        let w: Vec<(String, &str)> = unroutable(&p)
            .into_iter()
            .map(|w| (w.path, w.code))
            .collect();
        assert_eq!(
            w,
            [
                ("$.content[1].url".to_string(), "url_shared"),
                ("$.content[2].url".to_string(), "url_not_a_path")
            ]
        );
    }
}
