//! The resolution engine (placeholder while it is written).
use crate::{Directory, ExceptionRule, Mapping, Policy, Summary};

pub struct Resolved {
    pub mappings: Vec<Mapping>,
    pub summary: Summary,
    /// Problems that belong to no single mapping (an exception naming nobody...).
    pub warnings: Vec<String>,
}

pub fn resolve(_source: &Directory, _destination: &Directory, _policy: &Policy, _exceptions: &[ExceptionRule]) -> Resolved {
    todo!()
}
