//! Job-title normalisation: "VP Eng." and "Head of IT Procurement" become
//! token lists with abbreviations expanded, so title phrases match reliably.

/// Most tokens a title gives.
const MAX_TOKENS: usize = 32;

/// Lower-cases, splits on anything that is not a letter or digit, and drops
/// empties (`&` reads as `and`); at most [`MAX_TOKENS`].
pub fn tokens(raw: &str) -> Vec<String> {
    if raw.is_ascii() {
        ascii_tokens(raw)
    } else {
        general_tokens(raw)
    }
}

/// [`tokens`] of ASCII text in one pass, without the lower-cased and
/// `&`-replaced copies (the playbook compiler reads ~100 role titles).
fn ascii_tokens(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    for b in raw.bytes() {
        if out.len() == MAX_TOKENS {
            return out;
        }
        if b.is_ascii_alphanumeric() {
            word.push(char::from(b.to_ascii_lowercase()));
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if b == b'&' && out.len() < MAX_TOKENS {
            out.push("and".to_string());
        }
    }
    if !word.is_empty() && out.len() < MAX_TOKENS {
        out.push(word);
    }
    out
}

/// [`tokens`] of any text (Unicode lower-casing, which can change lengths).
fn general_tokens(raw: &str) -> Vec<String> {
    raw.to_lowercase()
        .replace('&', " and ")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(MAX_TOKENS)
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
    /// The ASCII pass gives what the general one gives, on ASCII text.
    #[test]
    fn ascii_tokens_are_the_general_ones() {
        let mut next = crate::testing::xorshift(0x5851_f42d_4c95_7f2d);
        let alphabet = b"aZ09 &-.,/x&&  Q_()";
        for n in 0..2_000 {
            let len = (next() % 120) as usize;
            let s: String = (0..len)
                .map(|_| char::from(alphabet[(next() % alphabet.len() as u64) as usize]))
                .collect();
            assert_eq!(ascii_tokens(&s), general_tokens(&s), "{n}: {s:?}");
        }
        let many = "a ".repeat(40) + "&&";
        assert_eq!(ascii_tokens(&many), general_tokens(&many));
        assert_eq!(ascii_tokens(&many).len(), MAX_TOKENS);
        assert_eq!(tokens("ΣΟΦΙΑ Head"), general_tokens("ΣΟΦΙΑ Head"));
    }

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
