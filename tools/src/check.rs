//! `buyerpath check`: every problem of a playbook at once, and on a valid
//! one, warnings (a key given twice, a misspelt-looking attribute key, a
//! catalogue URL no page is matched to).

use crate::input::{print_problems, read_playbook, visible};
use crate::warnings;
use anyhow::Result;
use buyerpath::Engine;
use std::path::Path;
use std::process::ExitCode;

pub fn run(path: &Path, json: bool) -> Result<ExitCode> {
    match read_playbook(path)?.and_then(|text| Engine::from_json(&text).map(|e| (e, text))) {
        Ok((e, text)) => {
            let found = serde_json::from_str(&text)
                .map(|v| warnings::all(&text, &v))
                .unwrap_or_default();
            if json {
                for w in &found {
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
            for w in &found {
                elogln!(
                    "warning: {}  [{}]\n  {}\n  hint: {}",
                    visible(&w.path),
                    w.code,
                    visible(&w.message),
                    visible(&w.hint)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            if json {
                // `severity` as on warning lines: one field to filter on.
                for i in &err.issues {
                    let mut line = serde_json::to_value(i)?;
                    if let Some(fields) = line.as_object_mut() {
                        fields.insert("severity".into(), "error".into());
                    }
                    outln!("{line}");
                }
            } else {
                print_problems(path, &err, "");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
