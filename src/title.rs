//! Job-title normalisation: "VP Eng." and "Head of IT Procurement" become
//! token lists with abbreviations expanded, so title phrases match reliably.

/// Lower-cases, splits on anything that is not a letter or digit, and drops empties.
pub fn tokens(raw: &str) -> Vec<String> {
    raw.to_lowercase()
        .replace('&', " and ")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(32)
        .map(str::to_string)
        .collect()
}

/// Tokenises a title and expands abbreviations (`vp` → `vice president`).
pub fn normalize(raw: &str, synonyms: &[(String, Vec<String>)]) -> Vec<String> {
    let mut out = Vec::new();
    for t in tokens(raw) {
        match synonyms.binary_search_by(|(k, _)| k.as_str().cmp(t.as_str())) {
            Ok(i) => {
                if let Some((_, exp)) = synonyms.get(i) {
                    out.extend(exp.iter().cloned());
                }
            }
            Err(_) => out.push(t),
        }
    }
    out
}

/// Whether `phrase` occurs as consecutive tokens in `title`.
pub fn contains_phrase(title: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty() && title.windows(phrase.len()).any(|w| w == phrase)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn expands_and_matches() {
        let syn = vec![
            ("eng".to_string(), vec!["engineering".to_string()]),
            (
                "vp".to_string(),
                vec!["vice".to_string(), "president".to_string()],
            ),
        ];
        let t = normalize("VP Eng.", &syn);
        assert_eq!(t, vec!["vice", "president", "engineering"]);
        assert!(contains_phrase(&t, &tokens("vice president")));
        assert!(!contains_phrase(&t, &tokens("president engineering x")));
        assert_eq!(
            tokens("Head of IT-Procurement & Legal"),
            vec!["head", "of", "it", "procurement", "and", "legal"]
        );
    }
}
