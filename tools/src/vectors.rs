//! `buyerpath vectors` (the shared test vectors).

use crate::input::{engine, example_journeys, examples_dir, replay_failed};
use anyhow::{bail, Context as _, Result};
use buyerpath::journey::replay;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The vectors directory of the repository.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("tests")
        .join("vectors")
}

/// The text of one vector file: the playbook path, the journey and its decisions.
pub fn vector_text(
    j: &buyerpath::journey::Journey,
    decisions: &[buyerpath::Decision],
) -> Result<String> {
    // The decisions for people (keys sorted), and the SHA-256 of each decision's
    // exact compact JSON as the engine writes it: what every runtime must reproduce byte for byte.
    let digests: Vec<String> = decisions
        .iter()
        .map(|d| sha256_hex(&buyerpath::decision_json::text(d)))
        .collect();
    let v = serde_json::json!({
        "playbook": "examples/acme/playbook.json",
        "journey": j,
        "decisions": decisions,
        "sha256": digests,
    });
    Ok(serde_json::to_string_pretty(&v)? + "\n")
}

pub fn run(check: bool) -> Result<ExitCode> {
    let dir = examples_dir();
    let e = engine(&dir.join("acme").join("playbook.json"))?;
    let out = vectors_dir();
    std::fs::create_dir_all(&out)?;
    let mut stale = Vec::new();
    for (path, j) in example_journeys(&dir.join("journeys"))? {
        let ds = replay(&e, &j).map_err(|err| replay_failed(&path, &j.id, &err))?;
        let text = vector_text(&j, &ds)?;
        let name = path.file_name().context("journey file name")?;
        let target = out.join(name);
        let current = std::fs::read_to_string(&target).unwrap_or_default();
        if current != text {
            if check {
                stale.push(target.display().to_string());
            } else {
                std::fs::write(&target, text)?;
                outln!("wrote {}", target.display());
            }
        }
    }
    // The committed schema (the package ships it) follows the playbook types.
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("schema")
        .join("playbook.schema.json");
    if check
        && std::fs::read_to_string(&schema_path).unwrap_or_default()
            != crate::schema::schema_text()?
    {
        bail!(
            "{} is out of date: run `cargo run -p buyerpath-cli -- schema -o schema/playbook.schema.json`",
            schema_path.display()
        );
    }
    if !stale.is_empty() {
        bail!(
            "vectors out of date (run `cargo run -p buyerpath-cli -- vectors`): {}",
            stale.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Lower-case hex SHA-256 of a string.
pub fn sha256_hex(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
