//! Progress of a long calibration on stderr: a spinner naming the step under
//! way, with the time spent so far. Drawn on terminals only: when stderr is a
//! pipe or a file (scripts, CI logs) nothing is written, and the command's
//! output is unchanged. Cleared when dropped, before the results are printed.

use indicatif::{ProgressBar, ProgressStyle};
use std::borrow::Cow;
use std::time::Duration;

pub struct Steps {
    bar: ProgressBar,
}

impl Steps {
    /// A spinner for `command`, at its first step (the next ones follow
    /// with [`Steps::step`]).
    pub fn start(command: &'static str, first: impl Into<Cow<'static, str>>) -> Self {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(command);
        bar.set_message(first);
        bar.enable_steady_tick(Duration::from_millis(120));
        Steps { bar }
    }

    /// Names the step now under way.
    pub fn step(&self, what: impl Into<Cow<'static, str>>) {
        self.bar.set_message(what);
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
