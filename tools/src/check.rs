//! `buyerpath check`: every problem of a playbook at once.

use crate::input::{print_problems, read};
use anyhow::Result;
use buyerpath::Engine;
use std::path::Path;
use std::process::ExitCode;

pub fn run(path: &Path, json: bool) -> Result<ExitCode> {
    let text = read(path)?;
    match Engine::from_json(&text) {
        Ok(e) => {
            if !json {
                outln!(
                    "{}: ok — playbook `{}` revision {}, slots {}",
                    path.display(),
                    e.playbook_id(),
                    e.revision(),
                    e.slot_ids().join(", ")
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
