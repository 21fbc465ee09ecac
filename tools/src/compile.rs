//! `buyerpath compile`: a playbook compiled once, written as an engine file
//! (`Engine::to_bytes`), for runtimes that load it without compiling JSON.

use crate::input::{print_problems, read_playbook, refuse_input_as_output};
use anyhow::Result;
use buyerpath::Engine;
use std::path::Path;
use std::process::ExitCode;

pub fn run(path: &Path, output: Option<&Path>) -> Result<ExitCode> {
    let (engine, text) =
        match read_playbook(path)?.and_then(|text| Engine::from_json(&text).map(|e| (e, text))) {
            Ok(e) => e,
            Err(err) => {
                print_problems(path, &err, ", nothing written");
                return Ok(ExitCode::FAILURE);
            }
        };
    let bytes = engine.to_bytes().map_err(|e| anyhow::anyhow!("{e}"))?;
    // The file must load back as the same engine before it is written.
    let again = Engine::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(
        again.to_bytes().ok().as_ref() == Some(&bytes),
        "the engine did not load back unchanged (report this)"
    );
    let out = output.map_or_else(|| path.with_extension("bpe"), Path::to_path_buf);
    // Writing over the playbook would lose it (the engine file cannot be
    // turned back into JSON).
    refuse_input_as_output(&out, "--output", &[("the playbook", path)])?;
    crate::staged::write(&out, &bytes)?;
    // To stderr: stdout may be the file itself (`-o /dev/stdout`).
    elogln!(
        "{}: playbook `{}` revision {} compiled, {} B of JSON -> {} B engine file",
        out.display(),
        engine.playbook_id(),
        engine.revision(),
        text.len(),
        bytes.len()
    );
    Ok(ExitCode::SUCCESS)
}
