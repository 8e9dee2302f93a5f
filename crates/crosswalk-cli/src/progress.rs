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
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("static template"),
    );
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn on_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// One line saying which phase starts. A closed stderr is no reason to stop the work.
fn announce(phase: &str) {
    let _ = writeln!(std::io::stderr().lock(), "crosswalk: {phase}");
}

/// Shows the application's progress events: a spinner per step on a terminal, a line per
/// step elsewhere. Dropping it clears what is still drawn.
#[derive(Default)]
pub(crate) struct Steps {
    current: Option<ProgressBar>,
}

impl Steps {
    pub(crate) fn show(&mut self, event: crosswalk_app::Progress) {
        use crosswalk_app::Progress;
        if let Some(bar) = self.current.take() {
            bar.finish_and_clear();
        }
        let message = match event {
            Progress::Reading {
                source,
                destination,
            } => {
                format!(
                    "reading the source directory {source} and the destination directory {destination}"
                )
            }
            Progress::Resolving {
                source_identities,
                destination_identities,
            } => {
                format!(
                    "resolving {source_identities} source identities against {destination_identities} destination identities"
                )
            }
            Progress::Recording { mappings } => {
                format!("recording what changed among {mappings} mappings")
            }
            // Finished, and any step a later version adds: nothing to draw.
            _ => return,
        };
        self.current = Some(spinner(message));
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        if let Some(bar) = self.current.take() {
            bar.finish_and_clear();
        }
    }
}
