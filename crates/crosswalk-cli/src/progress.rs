//! Progress on long work: bars and spinners on a terminal; where stderr is not one (a log,
//! a CI job, a pipe), one line per phase, `crosswalk: reading ...`, so a log still says what
//! was running and when it stopped.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner with a message, for work whose size is unknown.
pub(crate) fn spinner(message: impl Into<String>) -> ProgressBar {
    let message = message.into();
    if !on_terminal() {
        announce(&message);
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("static template"));
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A bar counting `total` items.
pub(crate) fn bar(total: u64, message: impl Into<String>) -> ProgressBar {
    let message = message.into();
    if !on_terminal() {
        announce(&format!("{message} ({total})"));
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg:24} [{bar:32}] {human_pos}/{human_len} ({eta} left)")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

fn on_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// One line saying which phase starts. A closed stderr is no reason to stop the work.
fn announce(phase: &str) {
    let _ = writeln!(std::io::stderr().lock(), "crosswalk: {phase}");
}
