//! SCIM 2.0 (RFC 7643, RFC 7644, RFC 9865) as pure code: what Crosswalk's SCIM service
//! speaks, with no I/O and no HTTP.
//!
//! * [`resource`]: typed [`User`] and [`Group`], their JSON, and conversions to and from
//!   the directory model (`crosswalk_core::Account`/`Group`, plus the SCIM-only extras).
//! * [`filter`]: the filter grammar (parse, print, check against a schema, evaluate) and
//!   [`filter::pushdown`], which recognises the look-ups a store can answer from an index.
//! * [`patch`]: `PatchOp` parsing and application, with the forms Entra and Okta send.
//! * [`query`]: `filter`, `sortBy`/`sortOrder`, `startIndex`/`count`, `cursor`, and
//!   `attributes`/`excludedAttributes` projection.
//! * [`message`]: `ListResponse`, `SearchRequest`, Bulk requests and responses.
//! * [`discovery`]: `/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes`.
//! * [`schema`]: the attribute tables everything above is driven by.
//! * [`error`]: [`ScimError`], the RFC error body with its HTTP status and `scimType`.
//! * [`etag`]: deterministic resource versions and `If-Match` checks.
//! * [`json`]: strict JSON (a name given twice is refused) and located errors.
//!
//! Architecture invariant: like `crosswalk-core`, this crate does no I/O and knows no
//! clock; every function is a function of its arguments.

pub mod datetime;
pub mod discovery;
pub mod error;
pub mod etag;
pub mod filter;
pub mod json;
pub mod message;
pub mod patch;
pub mod query;
pub mod resource;
pub mod schema;

pub use error::{ErrorBody, ScimError, ScimType};
pub use filter::{CompiledFilter, Filter, FilterError, PatchPath};
pub use json::{AttributeError, parse_strict};
pub use message::{BulkRequest, BulkResponse, ListResponse, SearchRequest};
pub use patch::{PatchKind, PatchOperation, PatchRequest};
pub use query::{ListQuery, Page, Projection, QueryLimits, Sort, SortOrder};
pub use resource::{
    Email, Group, GroupExtras, Member, Meta, Name, PrimaryEmail, ResourceKind, User, UserExtras,
};
pub use schema::{GROUP, RESOURCE_TYPES, ResourceType, USER};
