//! Reads a directory live from an LDAP server: `crosswalk run --source ldap://host:389`.
//!
//! The network half of the LDAP connector; the other half, which entries are accounts and
//! groups and how their attributes become fields, is `crosswalk_formats::ldif`'s
//! [`EntryAssembler`], the same code an LDIF export goes through. This crate only fetches:
//! it binds (simple bind, or anonymously), searches with the paged results control
//! (RFC 2696) so a server's size limit never truncates the read, and fetches the rest of an
//! Active Directory group's `member;range=0-1499` values range by range.
//!
//! Credentials come from the environment or a file, never from the command line, and never
//! appear in a message ([`Credentials`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crosswalk_formats::ldif::{Entry, EntryAssembler};
use crosswalk_formats::{FormatError, Imported, ReadOptions};
use ldap3::adapters::{EntriesOnly, PagedResults};
use ldap3::{LdapConn, LdapConnSettings, Scope, SearchEntry};

/// The environment variable holding the bind DN.
pub const BIND_DN_VAR: &str = "CROSSWALK_LDAP_BIND_DN";
/// The environment variable holding the bind password.
pub const PASSWORD_VAR: &str = "CROSSWALK_LDAP_PASSWORD";

/// What a search asks for when no filter is given: people and the four group classes.
pub const DEFAULT_FILTER: &str = "(|(objectClass=person)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)\
(objectClass=posixGroup)(objectClass=group))";

/// Entries per page of the paged results control.
pub const DEFAULT_PAGE_SIZE: i32 = 500;

/// Whether a `--source` names an LDAP server rather than a file.
pub fn is_ldap_url(source: &str) -> bool {
    let lower = source.trim_start().to_ascii_lowercase();
    lower.starts_with("ldap://") || lower.starts_with("ldaps://")
}

/// The URL with any user and password in it replaced by `***`, for messages and records: a
/// URL holding credentials is refused, but must not be shown on its way to the refusal.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// How to read a directory from a server, besides its URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LdapOptions {
    /// The search base; `None`: the server's default naming context (from its root DSE).
    pub base: Option<String>,
    /// An LDAP filter (RFC 4515); `None`: [`DEFAULT_FILTER`].
    pub filter: Option<String>,
    /// Upgrade an `ldap://` connection with StartTLS before binding.
    pub starttls: bool,
    /// A file with the bind DN on its first line and the password on its second; `None`:
    /// [`BIND_DN_VAR`] and [`PASSWORD_VAR`], or an anonymous bind when neither is set.
    pub credentials_file: Option<PathBuf>,
    /// Entries per page; `None`: [`DEFAULT_PAGE_SIZE`].
    pub page_size: Option<i32>,
}

/// A bind DN and password. `Debug` shows the DN only.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub bind_dn: String,
    password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("bind_dn", &self.bind_dn)
            .field("password", &"(hidden)")
            .finish()
    }
}

impl Credentials {
    pub fn new(bind_dn: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            bind_dn: bind_dn.into(),
            password: password.into(),
        }
    }

    /// From the file if one is given, else the environment; `None` for an anonymous bind.
    pub fn load(file: Option<&Path>) -> Result<Option<Credentials>, LdapError> {
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                LdapError::Credentials(format!(
                    "cannot read the credentials file {}: {e}",
                    path.display()
                ))
            })?;
            let mut lines = text.lines();
            let bind_dn = lines.next().unwrap_or_default().trim().to_string();
            let password = lines.next().unwrap_or_default().to_string();
            if bind_dn.is_empty() || password.is_empty() {
                return Err(LdapError::Credentials(format!(
                    "{}: expected the bind DN on the first line and the password on the second",
                    path.display()
                )));
            }
            return Ok(Some(Credentials { bind_dn, password }));
        }
        let bind_dn = std::env::var(BIND_DN_VAR)
            .ok()
            .filter(|v| !v.trim().is_empty());
        let password = std::env::var(PASSWORD_VAR).ok().filter(|v| !v.is_empty());
        match (bind_dn, password) {
            (Some(bind_dn), Some(password)) => Ok(Some(Credentials {
                bind_dn: bind_dn.trim().to_string(),
                password,
            })),
            (None, None) => Ok(None),
            (Some(_), None) => Err(LdapError::Credentials(format!(
                "{BIND_DN_VAR} is set but {PASSWORD_VAR} is not; set both, or neither for an anonymous bind"
            ))),
            (None, Some(_)) => Err(LdapError::Credentials(format!(
                "{PASSWORD_VAR} is set but {BIND_DN_VAR} is not; set both, or neither for an anonymous bind"
            ))),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LdapError {
    /// The URL or an option is wrong.
    #[error("{0}")]
    Usage(String),
    /// The credentials could not be read.
    #[error("{0}")]
    Credentials(String),
    /// The server could not be reached, refused the bind or the search.
    #[error("{url}: {message}")]
    Server { url: String, message: String },
    /// An entry could not be turned into an account or group.
    #[error(transparent)]
    Format(#[from] FormatError),
}

/// The URL as messages show it (a URL with a user or password in it is refused earlier).
fn checked_url(url: &str, options: &LdapOptions) -> Result<String, LdapError> {
    let url = url.trim();
    let rest = url.split_once("://").map_or("", |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(LdapError::Usage(
            "the LDAP URL holds a user or password; give credentials in CROSSWALK_LDAP_BIND_DN and \
             CROSSWALK_LDAP_PASSWORD or with --ldap-credentials FILE, never on the command line"
                .to_string(),
        ));
    }
    if authority.is_empty() {
        return Err(LdapError::Usage(format!(
            "{url}: no host; write ldap://host:389 or ldaps://host:636"
        )));
    }
    if options.starttls && url.to_ascii_lowercase().starts_with("ldaps://") {
        return Err(LdapError::Usage(
            "--ldap-starttls is for ldap:// URLs; an ldaps:// connection is TLS already"
                .to_string(),
        ));
    }
    Ok(url.to_string())
}

/// The host of the URL: the name of the directory read from it.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    host.trim_matches(['[', ']']).to_string()
}

/// Reads the directory at `url` (`ldap://host:port` or `ldaps://host:port`).
pub fn read_directory(
    url: &str,
    options: &LdapOptions,
    read: ReadOptions,
) -> Result<Imported, LdapError> {
    let url = checked_url(url, options)?;
    let credentials = Credentials::load(options.credentials_file.as_deref())?;
    let server = |message: String| LdapError::Server {
        url: url.clone(),
        message,
    };
    let settings = LdapConnSettings::new()
        .set_conn_timeout(Duration::from_secs(30))
        .set_starttls(options.starttls);
    let mut ldap = LdapConn::with_settings(settings, &url).map_err(|e| {
        server(format!(
            "cannot connect: {e}; is the host and port right, and is the server up?"
        ))
    })?;
    ldap.with_timeout(Duration::from_secs(300));
    if let Some(credentials) = &credentials {
        ldap.simple_bind(&credentials.bind_dn, &credentials.password)
            .and_then(|result| result.success())
            .map_err(|e| {
                server(format!(
                    "the bind as {:?} was refused: {e}; check the bind DN and password",
                    credentials.bind_dn
                ))
            })?;
    }
    let base = match &options.base {
        Some(base) => base.clone(),
        None => default_base(&mut ldap).map_err(server)?,
    };
    let filter = options.filter.as_deref().unwrap_or(DEFAULT_FILTER);
    let page_size = options.page_size.unwrap_or(DEFAULT_PAGE_SIZE).max(1);
    let attributes = vec!["*", "entryUUID"];
    let mut assembler = EntryAssembler::new(&url, read);
    // Groups whose members came in ranges: fetched once the search is done (one connection
    // runs one operation at a time).
    let mut ranged: Vec<Entry> = Vec::new();
    {
        let adapters: Vec<Box<dyn ldap3::adapters::Adapter<_, _>>> = vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(page_size)),
        ];
        let mut search = ldap
            .streaming_search_with(adapters, &base, Scope::Subtree, filter, attributes)
            .map_err(|e| server(format!("the search under {base:?} with {filter:?} failed: {e}; check --ldap-base and --ldap-filter")))?;
        loop {
            let next = search.next().map_err(|e| {
                server(format!(
                    "the search under {base:?} failed: {e}; check --ldap-base and --ldap-filter"
                ))
            })?;
            let Some(result) = next else { break };
            let entry = entry_of(SearchEntry::construct(result));
            if has_open_range(&entry) {
                ranged.push(entry);
            } else {
                assembler.add(entry)?;
            }
        }
        search
            .result()
            .success()
            .map_err(|e| server(format!("the search under {base:?} with {filter:?} failed: {e}; check --ldap-base and --ldap-filter")))?;
    }
    for mut entry in ranged {
        complete_ranges(&mut ldap, &mut entry).map_err(server)?;
        assembler.add(entry)?;
    }
    let _ = ldap.unbind();
    let mut imported = assembler.finish()?;
    imported.directory.name = host_of(&url);
    Ok(imported)
}

/// The server's default naming context (Active Directory's `defaultNamingContext`, else the
/// only one of `namingContexts`).
fn default_base(ldap: &mut LdapConn) -> Result<String, String> {
    let (entries, _) = ldap
        .search(
            "",
            Scope::Base,
            "(objectClass=*)",
            vec!["defaultNamingContext", "namingContexts"],
        )
        .and_then(|r| r.success())
        .map_err(|e| {
            format!("cannot read the root DSE to find the base DN ({e}); give --ldap-base")
        })?;
    let Some(root) = entries.into_iter().next().map(SearchEntry::construct) else {
        return Err(
            "the server has no root DSE to find the base DN in; give --ldap-base".to_string(),
        );
    };
    let value = |name: &str| {
        root.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if let Some(base) = value("defaultNamingContext").into_iter().next() {
        return Ok(base);
    }
    let contexts = value("namingContexts");
    match contexts.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err("the server names no naming context; give --ldap-base".to_string()),
        many => Err(format!(
            "the server has several naming contexts ({}); choose one with --ldap-base",
            many.join("; ")
        )),
    }
}

/// ldap3's entry as the assembler's: text and binary values alike, as bytes.
fn entry_of(found: SearchEntry) -> Entry {
    let mut entry = Entry::new(found.dn);
    let mut attributes: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, values) in found.attrs {
        for value in values {
            attributes.push((name.to_ascii_lowercase(), value.into_bytes()));
        }
    }
    for (name, values) in found.bin_attrs {
        for value in values {
            attributes.push((name.to_ascii_lowercase(), value));
        }
    }
    // A server's attribute order is a hash map's here; sorting by name keeps each
    // attribute's values in the server's order and the result independent of the map.
    attributes.sort_by(|a, b| a.0.cmp(&b.0));
    entry.attributes = attributes;
    entry
}

/// `member;range=0-1499`: Active Directory sent the first range of a large attribute.
fn open_range(attribute: &str) -> Option<(&str, u64)> {
    let (name, options) = attribute.split_once(';')?;
    let range = options.split(';').find_map(|o| o.strip_prefix("range="))?;
    let (_, end) = range.split_once('-')?;
    if end == "*" {
        return None;
    }
    Some((name, end.parse().ok()?))
}

fn has_open_range(entry: &Entry) -> bool {
    entry
        .attributes
        .iter()
        .any(|(attribute, _)| open_range(attribute).is_some())
}

/// Fetches the remaining ranges of each ranged attribute of `entry` (MS-ADTS 3.1.1.3.1.3.3,
/// "Range Retrieval of Attribute Values") and renames them to the plain attribute.
fn complete_ranges(ldap: &mut LdapConn, entry: &mut Entry) -> Result<(), String> {
    let open: Vec<(String, u64)> = entry
        .attributes
        .iter()
        .filter_map(|(a, _)| open_range(a).map(|(n, end)| (n.to_string(), end)))
        .collect();
    let mut done: Vec<String> = Vec::new();
    for (name, mut end) in open {
        if done.contains(&name) {
            continue;
        }
        loop {
            let request = format!("{name};range={}-*", end + 1);
            let (entries, _) = ldap
                .search(
                    &entry.dn,
                    Scope::Base,
                    "(objectClass=*)",
                    vec![request.as_str()],
                )
                .and_then(|r| r.success())
                .map_err(|e| format!("fetching {request} of {:?} failed: {e}", entry.dn))?;
            let Some(found) = entries.into_iter().next().map(SearchEntry::construct) else {
                break;
            };
            let fetched = entry_of(found);
            let mut next_end = None;
            let mut got_any = false;
            for (attribute, value) in fetched.attributes {
                if attribute.split(';').next() != Some(name.as_str()) {
                    continue;
                }
                got_any = true;
                next_end = open_range(&attribute).map(|(_, end)| end);
                entry
                    .attributes
                    .push((format!("{name};range=fetched"), value));
            }
            match next_end {
                Some(new_end) if got_any && new_end > end => end = new_end,
                _ => break,
            }
        }
        done.push(name);
    }
    // Every range is in: the values are the whole attribute.
    for (attribute, _) in &mut entry.attributes {
        if let Some((name, options)) = attribute.split_once(';')
            && options.split(';').any(|o| o.starts_with("range="))
        {
            *attribute = name.to_string();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_ranges() {
        assert!(is_ldap_url("ldap://127.0.0.1:389"));
        assert!(is_ldap_url("LDAPS://dc01.example.com"));
        assert!(!is_ldap_url("users.ldif"));
        assert_eq!(host_of("ldap://127.0.0.1:3890"), "127.0.0.1");
        assert_eq!(host_of("ldaps://dc01.example.com/"), "dc01.example.com");
        assert!(matches!(
            checked_url("ldap://admin:secret@host", &LdapOptions::default()),
            Err(LdapError::Usage(_))
        ));
        assert_eq!(
            redacted("ldap://admin:secret@host:389/dc=x"),
            "ldap://***@host:389/dc=x"
        );
        assert_eq!(redacted("ldaps://host:636"), "ldaps://host:636");
        assert_eq!(open_range("member;range=0-1499"), Some(("member", 1499)));
        assert_eq!(open_range("member;range=1500-*"), None);
        assert_eq!(open_range("member"), None);
    }

    #[test]
    fn credentials_never_show_the_password() {
        let credentials = Credentials::new("cn=reader,dc=example,dc=com", "hunter2");
        assert!(!format!("{credentials:?}").contains("hunter2"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bind");
        std::fs::write(&path, "cn=reader,dc=example,dc=com\nhunter2\n").unwrap();
        assert_eq!(Credentials::load(Some(&path)).unwrap(), Some(credentials));
        std::fs::write(&path, "cn=reader,dc=example,dc=com\n").unwrap();
        let error = Credentials::load(Some(&path)).unwrap_err().to_string();
        assert!(error.contains("password on the second"), "{error}");
    }
}
