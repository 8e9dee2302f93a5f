//! The User Mappings report: one row per mapping, the 12 columns in the order the export uses.

use serde::{Deserialize, Serialize};

use crate::directory::{Directory, IdentityKind};
use crate::mapping::{Mapping, Resolution, Target};

/// The export's header, in order.
pub const REPORT_COLUMNS: [&str; 12] = [
    "Type",
    "Job",
    "Source ID",
    "Source Username",
    "Source Name",
    "Source Display Name",
    "Destination ID",
    "Destination Username",
    "Destination Name",
    "Destination Display Name",
    "Resolution",
    "Message",
];

/// One row of the report. For accounts, `*_name` is the email; for groups, the group name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    #[serde(rename = "type")]
    pub kind: IdentityKind,
    pub job: String,
    pub source_id: String,
    pub source_username: String,
    pub source_name: String,
    pub source_display_name: String,
    pub destination_id: String,
    pub destination_username: String,
    pub destination_name: String,
    pub destination_display_name: String,
    pub resolution: Resolution,
    pub message: String,
}

struct Side {
    id: String,
    username: String,
    name: String,
    display_name: String,
}

fn side_of(directory: &Directory, kind: IdentityKind, index: u32) -> Side {
    match kind {
        IdentityKind::Account => {
            let a = directory.account(index);
            Side {
                id: a.id.to_string(),
                username: a.username.as_deref().unwrap_or_default().to_string(),
                name: a.email.as_deref().unwrap_or_default().to_string(),
                display_name: a.display_name.as_deref().unwrap_or_default().to_string(),
            }
        }
        IdentityKind::Group => {
            let g = directory.group(index);
            Side {
                id: g.id.to_string(),
                username: String::new(),
                name: g.name.to_string(),
                display_name: g.display_name.as_deref().unwrap_or(&g.name).to_string(),
            }
        }
    }
}

impl ReportRow {
    /// Builds the row for one mapping. `Destination ID` is only ever an existing destination
    /// identity's id (or the default account the policy names): Provision, Passthrough and
    /// External show what the destination will get (username, address or name, display
    /// name, from the source) with an empty `Destination ID`, and the message says so.
    pub fn build(
        job: &str,
        source: &Directory,
        destination: &Directory,
        mapping: &Mapping,
    ) -> ReportRow {
        let src = side_of(source, mapping.kind, mapping.source);
        let dst = match &mapping.target {
            None => Side {
                id: String::new(),
                username: String::new(),
                name: String::new(),
                display_name: String::new(),
            },
            Some(Target::Existing { index }) => side_of(destination, mapping.kind, *index),
            Some(
                Target::Provision | Target::Passthrough | Target::External | Target::FormerUser,
            ) => Side {
                id: String::new(),
                ..side_of(source, mapping.kind, mapping.source)
            },
            Some(Target::Named { id }) => Side {
                id: id.clone(),
                username: String::new(),
                name: String::new(),
                display_name: String::new(),
            },
        };
        ReportRow {
            kind: mapping.kind,
            job: job.to_string(),
            source_id: src.id,
            source_username: src.username,
            source_name: src.name,
            source_display_name: src.display_name,
            destination_id: dst.id,
            destination_username: dst.username,
            destination_name: dst.name,
            destination_display_name: dst.display_name,
            resolution: mapping.resolution,
            message: mapping.message.clone(),
        }
    }

    /// The 12 fields in column order.
    pub fn fields(&self) -> [&str; 12] {
        [
            self.kind.as_str(),
            &self.job,
            &self.source_id,
            &self.source_username,
            &self.source_name,
            &self.source_display_name,
            &self.destination_id,
            &self.destination_username,
            &self.destination_name,
            &self.destination_display_name,
            self.resolution.as_str(),
            &self.message,
        ]
    }
}
