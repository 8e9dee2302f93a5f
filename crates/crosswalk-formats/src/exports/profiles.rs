//! Each CSV export's columns: which header names mean which field of an account, and how a
//! header is recognised. Header names are compared after
//! [`normalize_header`](super::normalize_header) (lower case, Google's `[Required]` notes
//! dropped). Where several names are listed for one field, the first present wins (AD: the
//! `ObjectGUID` if exported, else the `SID`, else the `SamAccountName`).

use super::ExportFormat;

/// How a column's value becomes `active`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActiveStyle {
    /// `True`/`False`, `Yes`/`No`, `1`/`0` (Entra `accountEnabled`, AD `Enabled`).
    Boolean,
    /// Google `Status [READ ONLY]`: `Active`, `Suspended`, `Archived`.
    Status,
    /// Slack `status`: `Member`, `Admin`, `Owner`, a guest kind, `Bot` are active; `Deactivated` is not.
    SlackStatus,
}

/// How a column's value becomes addresses or groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListStyle {
    /// `proxyAddresses`: `SMTP:primary` and `smtp:alias` entries, split on `;`, `,`, `|` or
    /// spaces; `X500:`, `SIP:` and other non-SMTP entries are not addresses and are dropped.
    ProxyAddresses,
    /// Group names separated by commas (Atlassian `Group names`).
    Names,
    /// Distinguished names separated by `;` (AD `MemberOf` joined by a script).
    DistinguishedNames,
}

/// A field of the account a column fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Id,
    Username,
    Email,
    /// Further addresses; the primary of a proxy list fills `email` when that is empty.
    Aliases(ListStyle),
    DisplayName,
    GivenName,
    FamilyName,
    Active(ActiveStyle),
    Groups(ListStyle),
}

impl Role {
    /// The Crosswalk CSV column the builder's messages use for this field.
    pub(crate) fn crosswalk_column(self) -> &'static str {
        match self {
            Role::Id => "id",
            Role::Username => "username",
            Role::Email => "email",
            Role::Aliases(_) => "aliases",
            Role::DisplayName => "display_name",
            Role::GivenName => "given_name",
            Role::FamilyName => "family_name",
            Role::Active(_) => "active",
            Role::Groups(_) => "group",
        }
    }
}

/// One field and the header names that may carry it, most specific first.
pub(crate) struct Column {
    pub(crate) role: Role,
    pub(crate) names: &'static [&'static str],
}

const fn col(role: Role, names: &'static [&'static str]) -> Column {
    Column { role, names }
}

const ENTRA: &[Column] = &[
    // The portal's download says `id` (older ones `objectId`); Get-MgUser says `Id`.
    col(Role::Id, &["id", "objectid"]),
    col(Role::Username, &["userprincipalname"]),
    col(Role::Email, &["mail"]),
    col(
        Role::Aliases(ListStyle::ProxyAddresses),
        &["proxyaddresses"],
    ),
    col(Role::DisplayName, &["displayname"]),
    col(Role::GivenName, &["givenname"]),
    col(Role::FamilyName, &["surname"]),
    col(Role::Active(ActiveStyle::Boolean), &["accountenabled"]),
];

const ACTIVE_DIRECTORY: &[Column] = &[
    col(
        Role::Id,
        &["objectguid", "sid", "objectsid", "samaccountname"],
    ),
    col(Role::Username, &["samaccountname"]),
    col(Role::Email, &["emailaddress", "mail"]),
    col(
        Role::Aliases(ListStyle::ProxyAddresses),
        &["proxyaddresses"],
    ),
    col(Role::DisplayName, &["displayname", "name"]),
    col(Role::GivenName, &["givenname"]),
    col(Role::FamilyName, &["surname", "sn"]),
    col(Role::Active(ActiveStyle::Boolean), &["enabled"]),
    col(Role::Groups(ListStyle::DistinguishedNames), &["memberof"]),
];

const GOOGLE: &[Column] = &[
    // The download has no immutable id; the primary address is what Google keys users by.
    col(Role::Id, &["email address"]),
    col(Role::Email, &["email address"]),
    col(Role::GivenName, &["first name"]),
    col(Role::FamilyName, &["last name"]),
    col(Role::Active(ActiveStyle::Status), &["status"]),
];

const ATLASSIAN: &[Column] = &[
    col(Role::Id, &["user id", "atlassian id"]),
    col(Role::Email, &["email"]),
    col(Role::DisplayName, &["user name", "name"]),
    col(
        Role::Active(ActiveStyle::Status),
        &["user status", "status"],
    ),
    col(Role::Groups(ListStyle::Names), &["group names"]),
];

const SLACK: &[Column] = &[
    col(Role::Id, &["userid"]),
    col(Role::Username, &["username"]),
    col(Role::Email, &["email"]),
    col(Role::DisplayName, &["fullname", "displayname"]),
    col(Role::Active(ActiveStyle::SlackStatus), &["status"]),
];

const GITHUB: &[Column] = &[
    col(Role::Id, &["login"]),
    col(Role::Username, &["login"]),
    col(Role::Email, &["saml_name_id", "email"]),
    col(Role::DisplayName, &["name"]),
];

pub(crate) fn columns(format: ExportFormat) -> &'static [Column] {
    match format {
        ExportFormat::Entra => ENTRA,
        ExportFormat::ActiveDirectory => ACTIVE_DIRECTORY,
        ExportFormat::Google => GOOGLE,
        ExportFormat::Atlassian => ATLASSIAN,
        ExportFormat::Slack => SLACK,
        ExportFormat::GitHub => GITHUB,
        // Read by `jira`, several files with their own columns.
        ExportFormat::JiraCwd => &[],
        // JSON, read by `okta`.
        ExportFormat::Okta => &[],
    }
}

/// The export a normalised header belongs to. Each test asks for columns only that export
/// has together, so that one format is never taken for another (Entra and AD both have
/// `UserPrincipalName`; only AD has `SamAccountName`).
pub(crate) fn detect(header: &[String]) -> Option<ExportFormat> {
    let has = |name: &str| header.iter().any(|h| h == name);
    if has("samaccountname")
        && (has("distinguishedname") || has("objectguid") || has("enabled") || has("sid"))
    {
        Some(ExportFormat::ActiveDirectory)
    } else if has("userprincipalname") && (has("id") || has("objectid")) {
        Some(ExportFormat::Entra)
    } else if has("email address")
        && has("first name")
        && (has("org unit path") || has("status") || has("last name"))
    {
        Some(ExportFormat::Google)
    } else if has("user id") && has("email") && (has("user name") || has("user status")) {
        Some(ExportFormat::Atlassian)
    } else if has("lower_user_name") && has("directory_id") {
        Some(ExportFormat::JiraCwd)
    } else if has("userid") && has("username") && (has("fullname") || has("billing-active")) {
        Some(ExportFormat::Slack)
    } else if has("login")
        && (has("role") || has("saml_name_id") || has("2fa") || has("name"))
        && !has("type")
    {
        Some(ExportFormat::GitHub)
    } else {
        None
    }
}
