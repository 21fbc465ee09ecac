//! "Did you mean ...?" hints for misspelt names (operators, stages, fields).
//!
//! A small bounded Levenshtein distance: inputs are attacker-controlled, so
//! words longer than [`MAX_WORD`] characters get no suggestion instead of a
//! quadratic amount of work.

/// Longest word (in characters) for which a suggestion is computed.
pub const MAX_WORD: usize = 64;

/// Largest edit distance that still produces a suggestion.
pub const MAX_DISTANCE: usize = 2;

/// Returns `"did you mean `candidate`?"` for the candidate closest to `word`
/// when its edit distance (case-insensitive) is at most [`MAX_DISTANCE`] and
/// smaller than the word's length. Ties go to the earliest candidate, so the
/// answer is deterministic. When `word` is itself a candidate there is no suggestion.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate [`did_you_mean`] would suggest, without the wording.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let w: Vec<char> = word.chars().flat_map(char::to_lowercase).collect();
    if w.is_empty() || w.len() > MAX_WORD {
        return None;
    }
    let mut best: Option<(usize, &'a str)> = None;
    let mut row = Vec::new();
    for cand in candidates {
        if cand == word {
            return None;
        }
        let c: Vec<char> = cand.chars().flat_map(char::to_lowercase).collect();
        if c.len() > MAX_WORD || c.len().abs_diff(w.len()) > MAX_DISTANCE {
            continue;
        }
        let d = levenshtein(&w, &c, &mut row);
        let better = match best {
            None => true,
            Some((bd, _)) => d < bd,
        };
        if d <= MAX_DISTANCE && d < w.len() && better {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// Classic two-row Levenshtein distance over characters; `row` is scratch space.
fn levenshtein(a: &[char], b: &[char], row: &mut Vec<usize>) -> usize {
    row.clear();
    row.extend(0..=b.len());
    for (i, ca) in a.iter().enumerate() {
        let mut diag = i; // row[j] of the previous iteration, j = 0
        let mut left = i + 1; // new row[0]
        if let Some(first) = row.first_mut() {
            *first = left;
        }
        for (j, cb) in b.iter().enumerate() {
            let up = row.get(j + 1).copied().unwrap_or(usize::MAX - 1);
            let cost = usize::from(ca != cb);
            let v = (diag + cost).min(up + 1).min(left + 1);
            diag = up;
            left = v;
            if let Some(slot) = row.get_mut(j + 1) {
                *slot = v;
            }
        }
    }
    row.last().copied().unwrap_or(a.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lev(a: &str, b: &str) -> usize {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        levenshtein(&a, &b, &mut Vec::new())
    }

    #[test]
    fn distances() {
        assert_eq!(lev("", ""), 0);
        assert_eq!(lev("abc", ""), 3);
        assert_eq!(lev("", "ab"), 2);
        assert_eq!(lev("kitten", "sitting"), 3);
        assert_eq!(lev("$regx", "$regex"), 1);
        assert_eq!(lev("flaw", "lawn"), 2);
    }

    #[test]
    fn suggestions() {
        let ops = ["$regex", "$in", "$nin", "$eq"];
        assert_eq!(
            did_you_mean("$regx", ops).as_deref(),
            Some("did you mean `$regex`?")
        );
        assert_eq!(
            did_you_mean("decison", ["awareness", "decision"]).as_deref(),
            Some("did you mean `decision`?")
        );
        assert_eq!(
            did_you_mean("Decision", ["decision"]).as_deref(),
            Some("did you mean `decision`?")
        );
        assert_eq!(did_you_mean("$foo", ops), None);
        assert_eq!(did_you_mean("x", ["y"]), None);
        assert_eq!(did_you_mean("$in", ops), None);
        assert_eq!(did_you_mean(&"a".repeat(500), ["a"]), None);
    }
}
