//! A speed tactic of `check` (`docs/performance.md`): its three input files are read side by
//! side. Nothing read differs from reading them one after the other.

use std::path::PathBuf;

use crosswalk_core::Directory;
use crosswalk_formats::ReadOptions;
use crosswalk_plan::Reference;

use crate::check::CheckRequest;
use crate::error::{AppError, AppResult};

/// Reads the source, the destination and the content references side by side, one thread
/// each (a speed tactic, `docs/performance.md`: three files on two cores take about the time
/// of the largest, not of all three). A bad source is reported before a bad destination,
/// and that before bad references, as when they were read one after the other.
pub(crate) fn read_check_inputs(
    request: &CheckRequest,
) -> AppResult<(Directory, Option<Directory>, Vec<Reference>)> {
    let read = |path: &PathBuf| -> AppResult<Directory> {
        Ok(
            crosswalk_formats::read_directory_file(path, ReadOptions::default())
                .map_err(AppError::input)?
                .directory,
        )
    };
    let (source, destination, references) = std::thread::scope(|scope| {
        let source = scope.spawn(|| read(&request.source));
        let destination = scope.spawn(|| request.destination.as_ref().map(read).transpose());
        let references = scope.spawn(|| match &request.items {
            Some(path) => crosswalk_formats::read_items_file(path).map_err(AppError::input),
            None => Ok(Vec::new()),
        });
        (join(source), join(destination), join(references))
    });
    Ok((source?, destination?, references?))
}

/// A reader's result; a panic in it is the caller's panic, not a lost error.
fn join<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
