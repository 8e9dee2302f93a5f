//! A scope's decisions as another migration tool's mapping file (issue 20), for the API.

pub use crosswalk_formats::peer_maps::{Exported, PeerFormat, Unmapped};
use crosswalk_store::scope::ReportOf;

use crate::App;
use crate::access::Caller;
use crate::error::{AppError, AppResult};
use crate::read::ReportFilter;

impl App {
    /// The scope's current mappings written as `format`'s file, and what was left out or marked.
    pub async fn export_peer_map(
        &self,
        caller: &Caller,
        scope: &str,
        format: PeerFormat,
    ) -> AppResult<(Vec<u8>, Exported)> {
        let rows = self
            .report(caller, scope, &ReportOf::Scope, &ReportFilter::default())
            .await?;
        let mut body = Vec::new();
        let exported = crosswalk_formats::peer_maps::write_peer_map(format, rows, &mut body)
            .map_err(|e| {
                AppError::invalid(format!("could not write the {} file: {e}", format.name()))
            })?;
        Ok((body, exported))
    }
}
