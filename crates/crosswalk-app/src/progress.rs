//! Progress of long use cases as events: the CLI draws bars or prints lines, a server keeps
//! the latest as a job's status. The application never writes to a terminal itself.

/// One step of a use case.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Reading both directory files (side by side).
    Reading { source: String, destination: String },
    /// The engine is resolving this many source identities against this many destination ones.
    Resolving {
        source_identities: usize,
        destination_identities: usize,
    },
    /// Reconciling this many mappings with the scope's current state and writing what differs.
    Recording { mappings: usize },
    /// The step started by the last event is over.
    Finished,
}

/// Where events go. `&mut |_| {}` ignores them.
pub type ProgressSink<'a> = &'a mut (dyn FnMut(Progress) + Send);
