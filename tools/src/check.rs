//! `buyerpath check`: every problem of a playbook at once, and on a valid
//! one, warnings for attribute keys that look misspelt.

use crate::input::{print_problems, read};
use crate::key_warnings::near_misses;
use anyhow::Result;
use buyerpath::Engine;
use std::path::Path;
use std::process::ExitCode;

pub fn run(path: &Path, json: bool) -> Result<ExitCode> {
    let text = read(path)?;
    match Engine::from_json(&text) {
        Ok(e) => {
            let warnings = serde_json::from_str(&text)
                .map(|v| near_misses(&v))
                .unwrap_or_default();
            if json {
                for w in &warnings {
                    outln!("{}", serde_json::to_string(w)?);
                }
                return Ok(ExitCode::SUCCESS);
            }
            outln!(
                "{}: ok — playbook `{}` revision {}, slots {}",
                path.display(),
                e.playbook_id(),
                e.revision(),
                e.slot_ids().join(", ")
            );
            for w in &warnings {
                elogln!(
                    "warning: {}  [{}]\n  {}\n  hint: {}",
                    w.path,
                    w.code,
                    w.message,
                    w.hint
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            if json {
                for i in &err.issues {
                    outln!("{}", serde_json::to_string(i)?);
                }
            } else {
                print_problems(path, &err, "");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
