//! Reading a CRM export (CSV or JSONL): one row per account or opportunity,
//! attributes named as in the playbook (`company.industry`, `account.tier`,
//! `campaign.medium`, `bant.budget`, `person.title`), an `outcome`, and
//! optional `id`, `closed_at` and `amount`.

use anyhow::{bail, Context as _, Result};
use serde_json::{Map, Value};
use std::path::Path;

/// What happened to the account or opportunity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Won,
    Lost,
    Churned,
    Renewed,
    Expanded,
    /// Still open: not used to learn.
    Open,
}

impl Outcome {
    /// Every outcome with the spellings accepted for it (after lower-casing
    /// and turning spaces and hyphens into underscores).
    const NAMES: [(Outcome, &'static [&'static str]); 6] = [
        (Outcome::Won, &["won", "closed_won", "win", "closedwon"]),
        (
            Outcome::Lost,
            &["lost", "closed_lost", "loss", "closedlost"],
        ),
        (
            Outcome::Churned,
            &["churned", "churn", "cancelled", "canceled"],
        ),
        (Outcome::Renewed, &["renewed", "renewal", "renew"]),
        (
            Outcome::Expanded,
            &["expanded", "expansion", "upsell", "upsold"],
        ),
        (
            Outcome::Open,
            &["open", "pipeline", "in_progress", "active"],
        ),
    ];

    /// Whether the outcome is an existing customer's (a renewal, an
    /// expansion, a churn) rather than a new deal's (won, lost).
    pub fn of_customer(self) -> bool {
        matches!(
            self,
            Outcome::Churned | Outcome::Renewed | Outcome::Expanded
        )
    }

    /// Parses an outcome cell.
    pub fn parse(s: &str) -> Option<Outcome> {
        let k = s.trim().to_lowercase().replace([' ', '-'], "_");
        Self::NAMES
            .iter()
            .find(|(_, names)| names.contains(&k.as_str()))
            .map(|(o, _)| *o)
    }

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(o, _)| *o == self)
            .and_then(|(_, n)| n.first())
            .copied()
            .unwrap_or("open")
    }
}

/// One closed row of the export.
#[derive(Debug, Clone)]
pub struct Record {
    /// 1-based line (CSV: including the header) for messages.
    pub line: usize,
    /// `id` column, else `company.domain`, else the line.
    pub id: String,
    /// The account the row belongs to, as [`account_key`] makes it from the
    /// row's `company.domain`, else its `id` column; `None` without either.
    /// Rows of one key are one account (several opportunities, a renewal).
    pub key: Option<String>,
    pub company: Map<String, Value>,
    pub account: Map<String, Value>,
    /// `source`, `medium`, `name`.
    pub campaign: Map<String, Value>,
    /// BANT answers by dimension id (`budget` → `50k_250k`).
    pub bant: Map<String, Value>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub outcome: Outcome,
    pub positive: bool,
    pub closed_at: Option<String>,
    pub amount: Option<f64>,
}

/// A whole export.
#[derive(Debug, Clone, Default)]
pub struct Export {
    pub records: Vec<Record>,
    /// Rows still open (skipped).
    pub open: usize,
    /// Closed rows of a kind (new deals, or existing customers) that the
    /// success outcomes name none of (skipped).
    pub other_kind: usize,
    /// Attribute columns (dotted names) seen.
    pub columns: Vec<String>,
    pub warnings: Vec<String>,
}

/// Reads a CSV (`.csv`) or JSONL (`.jsonl`, `.ndjson`, or content starting with `{`) export.
pub fn read(path: &Path, positive: &[Outcome]) -> Result<Export> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the CRM export {}", path.display()))?;
    let text = crate::input::read_open(path, file)?;
    rows(path, &text)
        .and_then(|(rows, named)| build(rows, named, positive, false))
        .with_context(|| format!("in the CRM export {}", path.display()))
}

/// Reads a list of current accounts in the export's format (CSV or JSONL,
/// the same columns): every row is kept, open or closed, and `outcome` may
/// be missing (such a row counts as open).
pub fn read_accounts(path: &Path) -> Result<Export> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the accounts file {}", path.display()))?;
    let text = crate::input::read_open(path, file)?;
    rows(path, &text)
        .and_then(|(rows, named)| build(rows, named, &[], true))
        .with_context(|| format!("in the accounts file {}", path.display()))
}

/// The key rows of one account share: the normalised `company.domain`, else
/// the `id` (normalised alike, so that it joins to a store account named by
/// it), else none. `serve --accounts` joins on it and `calibrate fit` keeps
/// each key's rows on one side of its learn/held-out split.
pub fn account_key(domain: Option<&str>, id: Option<&str>) -> Option<String> {
    [domain, id]
        .into_iter()
        .flatten()
        .map(buyerpath::lists::normalize_domain)
        .find(|k| !k.is_empty())
}

/// Each record's account as a group number (numbered in the order accounts
/// first appear; a row without a key is an account of its own), and how many
/// rows repeat an account of an earlier row.
pub fn account_groups(records: &[Record]) -> (Vec<usize>, usize) {
    let mut seen = std::collections::HashMap::new();
    let mut groups = Vec::with_capacity(records.len());
    let mut repeated = 0;
    let mut next = 0;
    for r in records {
        let g = match &r.key {
            Some(k) => match seen.get(k) {
                Some(&g) => {
                    repeated += 1;
                    g
                }
                None => {
                    seen.insert(k.clone(), next);
                    next += 1;
                    next - 1
                }
            },
            None => {
                next += 1;
                next - 1
            }
        };
        groups.push(g);
    }
    (groups, repeated)
}

/// The rows of an export's text, and whether it names an `outcome` column.
fn rows(path: &Path, text: &str) -> Result<(Vec<FlatRow>, bool)> {
    let csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let start = text.trim_start();
    let jsonl = json_extension(path).is_some() || (!csv && start.starts_with('{'));
    if !csv && start.starts_with('[') {
        json_array_rows(text)
    } else if jsonl {
        jsonl_rows(text)
    } else {
        csv_rows(text)
    }
}

/// The extension of a file read as JSONL whatever it holds (`jsonl`,
/// `ndjson`, `json`, in any case).
pub fn json_extension(path: &Path) -> Option<String> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    ["jsonl", "ndjson", "json"]
        .contains(&ext.as_str())
        .then_some(ext)
}

/// A row as flat (dotted name → value) pairs, with its line.
type FlatRow = (usize, Vec<(String, Value)>);

/// The field separator of a CSV file, from its header line (outside quotes):
/// `,`, or `;` or a tab where the header has more of those (a spreadsheet in
/// a locale whose decimal mark is a comma writes `;`). Column names never
/// hold a separator, so the header tells.
fn delimiter(text: &str) -> u8 {
    let header = text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("");
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
                c.1 += 1;
            }
        }
    }
    // The most frequent; a comma on a tie (and with no separator at all).
    counts
        .iter()
        .fold((b',', 0), |best, c| if c.1 > best.1 { *c } else { best })
        .0
}

fn csv_rows(text: &str) -> Result<(Vec<FlatRow>, bool)> {
    let delimiter = delimiter(text);
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = r
        .headers()
        .context("reading the CSV header")?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    // Two columns of one name: which one counts would be a guess.
    for (i, h) in headers.iter().enumerate().filter(|(_, h)| !h.is_empty()) {
        if let Some(j) = headers.iter().skip(i + 1).position(|o| o == h) {
            bail!(
                "the CSV header names `{}` twice (columns {} and {}): remove or rename one",
                crate::input::visible(h),
                i + 1,
                i + j + 2
            );
        }
    }
    let mut out = Vec::new();
    for rec in r.records() {
        // The physical line the row starts on (blank lines and quoted
        // newlines count), as an editor shows it.
        let rec = rec.map_err(|e| {
            let at = e
                .position()
                .map_or(String::new(), |p| format!("line {}: ", p.line()));
            let hint = match (delimiter, e.kind()) {
                (b';', csv::ErrorKind::UnequalLengths { .. }) => {
                    "; the file is `;`-separated (by its header), so a list in a cell must be quoted (\"a;b\") or written a|b"
                }
                _ => "",
            };
            anyhow::anyhow!("{at}not a valid CSV row: {e}{hint}")
        })?;
        let line = rec
            .position()
            .map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
        let mut row = Vec::new();
        for (h, cell) in headers.iter().zip(rec.iter()) {
            if let Some(v) = cell_value(h, cell, delimiter == b';') {
                row.push((h.clone(), v));
            }
        }
        out.push((line, row));
    }
    Ok((out, headers.iter().any(|h| h == "outcome")))
}

/// A cell as JSON (a CSV cell, or a JSONL string: both read alike): empty → absent; `a;b` (or `a|b`) → a list; numbers and
/// booleans typed; everything else a string. `outcome`, `id`, dates and what
/// the engine reads as text (`person.title`, `campaign.*`: a title `Head of
/// Data | BI`, a campaign named `2024`) stay text. `comma_decimals`: the
/// cell is from a `;` file, which a spreadsheet writes where the decimal mark
/// is a comma, so `12,5` and `1.234,5` are numbers there.
fn cell_value(column: &str, cell: &str, comma_decimals: bool) -> Option<Value> {
    let c = cell.trim();
    if c.is_empty() || c.eq_ignore_ascii_case("null") || c.eq_ignore_ascii_case("n/a") {
        return None;
    }
    let text = match column.split_once('.') {
        None => column != "amount",
        // What a visitor typed or a campaign named, and BANT bucket ids
        // (`0_3` is a bucket, not the number 3): text as given.
        Some((scope, _)) => matches!(scope, "person" | "campaign" | "bant"),
    };
    if text {
        return Some(Value::from(c));
    }
    if c.contains(';') || c.contains('|') {
        let items: Vec<Value> = c
            .split([';', '|'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Value::from)
            .collect();
        return Some(Value::Array(items));
    }
    // An amount as a spreadsheet shows it: a currency sign or code is not
    // part of the number (`$21,415,139`, `1.234,5 €`).
    let n = without_currency(c);
    // In a `;` file the dot groups thousands (`1.500` is 1500) and the comma
    // is the decimal mark; elsewhere the comma groups thousands (`10,658`).
    let grouped = if comma_decimals {
        decimal_comma(&n)
    } else {
        thousands_comma(&n)
    };
    if let Some(x) = grouped {
        return Some(Value::from(x));
    }
    if let Ok(x) = n.replace('_', "").parse::<f64>() {
        if x.is_finite() && !n.starts_with('+') {
            return Some(Value::from(x));
        }
    }
    match c.to_ascii_lowercase().as_str() {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => Some(Value::from(c)),
    }
}

/// `c` without a currency sign or code before or after it (and the space
/// beside it): `$500`, `-$500`, `USD 500`, `500 €`; anything else as it is.
fn without_currency(c: &str) -> std::borrow::Cow<'_, str> {
    const SIGNS: [&str; 8] = ["US$", "$", "€", "£", "¥", "USD", "EUR", "GBP"];
    let (sign, rest) = c.strip_prefix('-').map_or(("", c), |r| ("-", r));
    let stripped = SIGNS
        .iter()
        .find_map(|s| rest.strip_prefix(s).map(str::trim_start))
        .or_else(|| {
            SIGNS
                .iter()
                .find_map(|s| rest.strip_suffix(s).map(str::trim_end))
        });
    match stripped {
        Some(n) if !n.is_empty() && !n.starts_with('-') => format!("{sign}{n}").into(),
        _ => c.into(),
    }
}

/// A number with commas grouping its thousands, as a `,`-separated export
/// quotes it (`10,658`, `-1,234,567.5`); `None` for anything else (`12,5`,
/// `1,2,3`, and `1234`, which is left to the plain reading).
fn thousands_comma(c: &str) -> Option<f64> {
    let (x, groups) = grouped_number(c, ',', '.')?;
    (groups > 1).then_some(x)
}

/// A number as a comma-decimal locale writes it: a decimal comma, thousands
/// dots, or both (`12,5`, `-1.234,5`, `1.500`); `None` for anything else
/// (`1,2,3`, `1.23,4`, `12,`, and `1.5`, which is left to the plain reading).
fn decimal_comma(c: &str) -> Option<f64> {
    let (x, groups) = grouped_number(c, '.', ',')?;
    (groups > 1 || c.contains(',')).then_some(x)
}

/// A number whose whole part `group` splits in threes (after a first group
/// of one to three digits) and whose fraction follows `decimal`, with its
/// count of groups; `None` if it is not one.
fn grouped_number(c: &str, group: char, decimal: char) -> Option<(f64, usize)> {
    let (int, frac) = match c.split_once(decimal) {
        Some((int, frac)) => (int, Some(frac)),
        None => (c, None),
    };
    let (sign, int) = int.strip_prefix('-').map_or(("", int), |rest| ("-", rest));
    let groups: Vec<&str> = int.split(group).collect();
    let digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    // No grouped number starts with a lone 0 (`0,500` is not 500).
    let grouped = groups.len() == 1
        || (groups
            .first()
            .is_some_and(|g| g.len() <= 3 && !g.starts_with('0'))
            && groups.iter().skip(1).all(|g| g.len() == 3));
    if !grouped || !groups.iter().all(|g| digits(g)) || frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    let x: f64 = format!("{sign}{}.{}", groups.concat(), frac.unwrap_or("0"))
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite())?;
    Some((x, groups.len()))
}

fn jsonl_rows(text: &str) -> Result<(Vec<FlatRow>, bool)> {
    let lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    object_rows(lines, "per line")
}

/// A JSON array of objects (an export saved as one `.json` document,
/// `[{...}, {...}]`): each object a row, at the line where it starts.
fn json_array_rows(text: &str) -> Result<(Vec<FlatRow>, bool)> {
    let items: Vec<&serde_json::value::RawValue> =
        serde_json::from_str(text).context("not a valid JSON array of rows")?;
    let at_line = |raw: &serde_json::value::RawValue| {
        let at = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        text.get(..at).unwrap_or_default().matches('\n').count() + 1
    };
    object_rows(
        items.into_iter().map(|raw| (at_line(raw), raw.get())),
        "for each row",
    )
}

/// Rows from JSON objects (each with its line): flattened, and whether any
/// names an `outcome`. Anything but an object is refused (`each`: where one
/// is expected, for the message).
fn object_rows<'a>(
    objects: impl Iterator<Item = (usize, &'a str)>,
    each: &str,
) -> Result<(Vec<FlatRow>, bool)> {
    let mut out = Vec::new();
    let mut named = false;
    for (line, text) in objects {
        let v: Value =
            serde_json::from_str(text).with_context(|| format!("line {line}: not valid JSON"))?;
        let Value::Object(m) = v else {
            bail!("line {line}: expected a JSON object {each}");
        };
        named |= m.contains_key("outcome");
        let mut row = Vec::new();
        flatten("", &m, &mut row);
        out.push((line, row));
    }
    Ok((out, named))
}

/// Nested objects (`{"company": {"industry": ...}}`) become dotted names; a
/// string is read as the same CSV cell would be ([`cell_value`]: `"a;b"` a
/// list, `"10658"` a number), so a JSONL export says what its CSV says.
fn flatten(prefix: &str, m: &Map<String, Value>, out: &mut Vec<(String, Value)>) {
    for (k, v) in m {
        let name = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Null => {}
            Value::Object(inner) => flatten(&name, inner, out),
            Value::String(s) => {
                if let Some(v) = cell_value(&name, s, false) {
                    out.push((name, v));
                }
            }
            v => out.push((name, v.clone())),
        }
    }
}

const CAMPAIGN_KEYS: [&str; 3] = ["source", "medium", "name"];

/// `keep_open`: keep open rows (and rows without an outcome) as records too.
/// `outcome_named`: the file has an `outcome` column (perhaps empty).
fn build(
    rows: Vec<FlatRow>,
    outcome_named: bool,
    positive: &[Outcome],
    keep_open: bool,
) -> Result<Export> {
    if rows.is_empty() && !keep_open {
        bail!("no rows: the export has nothing (or only a header) to learn from");
    }
    let n_rows = rows.len();
    let mut export = Export::default();
    let mut problems = Vec::new();
    let mut columns = std::collections::BTreeSet::new();
    let mut ignored = std::collections::BTreeSet::new();
    let mut saw_outcome = false;
    for (line, row) in rows {
        let mut r = Record {
            line,
            id: String::new(),
            key: None,
            company: Map::new(),
            account: Map::new(),
            campaign: Map::new(),
            bant: Map::new(),
            title: None,
            department: None,
            outcome: Outcome::Open,
            positive: false,
            closed_at: None,
            amount: None,
        };
        let mut outcome = None;
        let mut account_id = None;
        for (name, v) in row {
            let text = || match &v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match name.split_once('.') {
                None => match name.as_str() {
                    "outcome" => {
                        saw_outcome = true;
                        outcome = Some(text());
                    }
                    "account_id" => {
                        account_id = Some(text());
                        r.id = text();
                    }
                    "id" | "opportunity_id" => r.id = text(),
                    "closed_at" | "close_date" | "date" => r.closed_at = Some(text()),
                    "amount" => r.amount = v.as_f64().or_else(|| text().parse().ok()),
                    _ => {
                        ignored.insert(name);
                    }
                },
                Some((scope, key)) => {
                    let target = match scope {
                        "company" => Some(&mut r.company),
                        "account" => Some(&mut r.account),
                        "bant" => Some(&mut r.bant),
                        "campaign" if CAMPAIGN_KEYS.contains(&key) => Some(&mut r.campaign),
                        "person" if key == "title" || key == "department" => {
                            let field = if key == "title" {
                                &mut r.title
                            } else {
                                &mut r.department
                            };
                            *field = Some(text());
                            columns.insert(name);
                            continue;
                        }
                        _ => None,
                    };
                    match target {
                        Some(m) => {
                            set_path(m, key, v);
                            columns.insert(name);
                        }
                        None => {
                            ignored.insert(name);
                        }
                    }
                }
            }
        }
        let domain = r.company.get("domain").and_then(Value::as_str);
        // An account id names the account better than an opportunity's.
        r.key = account_key(domain, account_id.as_deref().or(Some(r.id.as_str())));
        if r.id.is_empty() {
            r.id = r
                .company
                .get("domain")
                .and_then(Value::as_str)
                .map_or_else(|| format!("line {line}"), str::to_string);
        }
        match outcome.as_deref().map(|o| (o, Outcome::parse(o))) {
            None | Some((_, Some(Outcome::Open))) if keep_open => {
                export.open += 1;
                export.records.push(r);
            }
            None => {
                if saw_outcome || problems.len() < 8 {
                    problems.push(format!("line {line}: no outcome"));
                }
            }
            Some((o, None)) => problems.push(format!(
                "line {line}: unknown outcome `{}`: expected won, lost, churned, renewed, expanded or open",
                crate::input::visible(o)
            )),
            Some((_, Some(Outcome::Open))) => export.open += 1,
            // `--positive won` asks which new deals succeed: a renewal is not
            // a lost deal, so the outcomes of a kind (new deals, customers)
            // that `positive` names none of are left out, not counted as failures.
            Some((_, Some(o)))
                if !keep_open && !positive.iter().any(|p| p.of_customer() == o.of_customer()) =>
            {
                export.other_kind += 1;
            }
            Some((_, Some(o))) => {
                r.outcome = o;
                r.positive = positive.contains(&o);
                export.records.push(r);
            }
        }
    }
    if !saw_outcome && !keep_open && outcome_named {
        bail!(
            "the `outcome` column is empty in all {n_rows} row(s): give each row won, lost, churned, renewed, expanded or open"
        );
    }
    if !saw_outcome && !keep_open {
        // Column names are read as written: `Outcome` is not `outcome`.
        if let Some(near) = ignored.iter().find(|n| n.eq_ignore_ascii_case("outcome")) {
            bail!(
                "there is no `outcome` column, and there is `{}`: column names are read as written, in lower case; rename it `outcome`",
                crate::input::visible(near)
            );
        }
        bail!(
            "there is no `outcome` column (won, lost, churned, renewed, expanded or open); columns found: {}",
            columns
                .iter()
                .chain(&ignored)
                .map(|c| crate::input::visible(c).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !problems.is_empty() {
        let n = problems.len();
        problems.truncate(10);
        bail!(
            "{n} row(s) cannot be used:\n  {}{}",
            problems.join("\n  "),
            if n > 10 { "\n  ..." } else { "" }
        );
    }
    for name in ignored {
        let lower = name.to_ascii_lowercase();
        if lower != name && read_column(&lower) {
            export.warnings.push(format!(
                "column `{}` is ignored: column names are read as written, in lower case (did you mean `{}`?)",
                crate::input::visible(&name),
                crate::input::visible(&lower)
            ));
            continue;
        }
        let hint = match name.split_once('.') {
            Some(("person", _)) => {
                "only person.title and person.department are read (seniority comes from the title)"
            }
            Some(("campaign", _)) => {
                "only campaign.source, campaign.medium and campaign.name exist"
            }
            _ => {
                "attributes are company.*, account.*, campaign.*, bant.* or person.title/department"
            }
        };
        export.warnings.push(format!(
            "column `{}` is ignored: {hint}",
            crate::input::visible(&name)
        ));
    }
    export.columns = columns.into_iter().collect();
    Ok(export)
}

/// Whether a column of this name is read (as `build` reads columns).
fn read_column(name: &str) -> bool {
    match name.split_once('.') {
        None => matches!(
            name,
            "outcome"
                | "account_id"
                | "id"
                | "opportunity_id"
                | "closed_at"
                | "close_date"
                | "date"
                | "amount"
        ),
        Some(("company" | "account" | "bant", key)) => !key.is_empty(),
        Some(("campaign", key)) => CAMPAIGN_KEYS.contains(&key),
        Some(("person", key)) => key == "title" || key == "department",
        Some(_) => false,
    }
}

/// Sets `a.b.c` inside a map, creating objects on the way.
fn set_path(m: &mut Map<String, Value>, key: &str, v: Value) {
    match key.split_once('.') {
        None => {
            m.insert(key.to_string(), v);
        }
        Some((head, rest)) => {
            let entry = m
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                set_path(inner, rest, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_typed() {
        use serde_json::json;
        // (column, cell, from a `;` file, read as)
        let cases = [
            ("company.employees", "250", false, Some(json!(250.0))),
            (
                "company.tech",
                "snowflake;dbt",
                false,
                Some(json!(["snowflake", "dbt"])),
            ),
            ("company.region", "", false, None),
            ("id", "0042", false, Some(json!("0042"))),
            (
                "person.title",
                "Head of Data | BI",
                false,
                Some(json!("Head of Data | BI")),
            ),
            ("campaign.name", "2024", false, Some(json!("2024"))),
            ("bant.timeline", "0_3", false, Some(json!("0_3"))),
            // A `;` file's decimal commas; a `,` file's cell `12,5` is text.
            ("company.revenue", "12,5", true, Some(json!(12.5))),
            ("company.revenue", "-1.234,5", true, Some(json!(-1234.5))),
            ("company.revenue", "0,75", true, Some(json!(0.75))),
            ("company.revenue", "1,2,3", true, Some(json!("1,2,3"))),
            ("company.revenue", "1.23,4", true, Some(json!("1.23,4"))),
            ("company.revenue", "12,", true, Some(json!("12,"))),
            ("company.revenue", ",5", true, Some(json!(",5"))),
            ("company.revenue", "a,5", true, Some(json!("a,5"))),
            ("company.revenue", "12,5", false, Some(json!("12,5"))),
            ("company.employees", "1.500", true, Some(json!(1500.0))),
            (
                "company.employees",
                "1.234.567",
                true,
                Some(json!(1234567.0)),
            ),
            ("company.employees", "1.5", true, Some(json!(1.5))),
            ("company.employees", "1.500", false, Some(json!(1.5))),
            ("company.employees", "250", true, Some(json!(250.0))),
            ("person.title", "12,5", true, Some(json!("12,5"))),
            // A `,` file's thousands commas, and currency signs and codes.
            ("company.employees", "10,658", false, Some(json!(10658.0))),
            (
                "company.revenue",
                "$21,415,139",
                false,
                Some(json!(21415139.0)),
            ),
            ("company.revenue", "-1,234.5", false, Some(json!(-1234.5))),
            ("company.revenue", "-$500", false, Some(json!(-500.0))),
            ("company.revenue", "USD 2,000", false, Some(json!(2000.0))),
            ("company.revenue", "1.234,5 €", true, Some(json!(1234.5))),
            ("company.revenue", "1,2,3", false, Some(json!("1,2,3"))),
            ("company.revenue", "0,500", false, Some(json!("0,500"))),
            ("company.revenue", "0.500", true, Some(json!(0.5))),
            (
                "company.revenue",
                "1234,567",
                false,
                Some(json!("1234,567")),
            ),
            ("company.revenue", "$", false, Some(json!("$"))),
            ("company.revenue", "$ lots", false, Some(json!("$ lots"))),
            ("amount", "$1,500.00", false, Some(json!(1500.0))),
            ("person.title", "$1,500", false, Some(json!("$1,500"))),
        ];
        for (column, cell, comma, want) in cases {
            assert_eq!(
                cell_value(column, cell, comma),
                want,
                "{column} {cell:?} {comma}"
            );
        }
        assert_eq!(Outcome::parse("Closed Won"), Some(Outcome::Won));
        assert_eq!(Outcome::parse("maybe"), None);
    }

    #[test]
    fn a_jsonl_string_is_the_csv_cell() {
        let csv = "id,company.tech,company.employees,company.region,outcome\nx,snowflake;dbt,10658,n/a,won\n";
        let jsonl = r#"{"id":"x","company":{"tech":"snowflake;dbt","employees":"10658","region":"n/a"},"outcome":"won"}"#;
        let (a, _) = csv_rows(csv).unwrap();
        let (b, _) = jsonl_rows(jsonl).unwrap();
        let sorted = |mut r: Vec<(String, Value)>| {
            r.sort_by(|x, y| x.0.cmp(&y.0));
            r
        };
        assert_eq!(
            a.into_iter().map(|(_, r)| sorted(r)).collect::<Vec<_>>(),
            b.into_iter().map(|(_, r)| sorted(r)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_header_tells_the_separator() {
        assert_eq!(delimiter("id,outcome\n"), b',');
        assert_eq!(
            delimiter("\u{feff}id;company.tech;outcome\n1;\"a,b\";won\n"),
            b';'
        );
        assert_eq!(delimiter("id\tcompany.tech\toutcome\n"), b'\t');
        assert_eq!(delimiter("\"a;b\",outcome\n"), b',');
        assert_eq!(delimiter("outcome\n"), b',');
        let (rows, named) = csv_rows("id;company.tech;outcome\nx;\"a;b\";won\n").unwrap();
        assert!(named);
        assert_eq!(
            rows[0].1[1],
            ("company.tech".to_string(), serde_json::json!(["a", "b"]))
        );
    }

    #[test]
    fn rows_of_one_account_share_a_key() {
        assert_eq!(
            account_key(Some("https://WWW.Acme.com/x"), Some("opp-1")).as_deref(),
            Some("acme.com")
        );
        assert_eq!(account_key(None, Some("ACC-7")).as_deref(), Some("acc-7"));
        assert_eq!(account_key(Some(" "), Some("")), None);
        let text = "account_id,id,company.domain,outcome\na1,o1,,won\na1,o2,,lost\n,o3,b.com,won\n,o4,B.com,lost\n,,,lost\n";
        let (rows, named) = csv_rows(text).unwrap();
        let export = build(rows, named, &[Outcome::Won], false).unwrap();
        let (groups, repeated) = account_groups(&export.records);
        assert_eq!((groups, repeated), (vec![0, 0, 1, 1, 2], 2));
    }
}
