//! The directory exports admins already have, read as they are: Microsoft Entra ID
//! ("Download users" and `Get-MgUser | Export-Csv`), Active Directory (`Get-ADUser |
//! Export-Csv`), Google Workspace ("Download users"), Atlassian Cloud ("Export users"),
//! Jira/Confluence Server and Data Center (`cwd_user`, `cwd_membership`, `app_user`... as
//! CSV), Slack ("Export member list"), GitHub (organization people export) and Okta (the
//! Users and Groups API's JSON: [`okta`]).
//!
//! Which one a file is comes from its header ([`ExportFormat::detect`]) or is named
//! ([`SourceHint`]: `--format NAME`, or `NAME:PATH` where only a path fits). The columns each
//! format has, and where that shape is documented, are in `docs/formats.md`.
//!
//! Every export is decoded first (UTF-8 with or without BOM, UTF-16 with BOM, Windows-1252
//! when asked: [`crate::text`]) and its delimiter taken from the header, then read row by
//! row into the same [`Builder`](crate::builder::Builder) as Crosswalk's own CSV, so ids,
//! limits, `--skip-invalid` and messages (file, line, the export's own column name) work
//! alike. A value the platform mangled ([`mangled`]) is left out and reported once per column
//! in [`Imported::warnings`](crate::Imported::warnings).

mod csv_export;
mod entra;
mod jira;
mod mangled;
pub mod okta;
mod profiles;

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use crate::error::{FormatError, Location};
use crate::text::{Decoder, Encoding, choose_encoding, sniff_delimiter};
use crate::{Imported, ReadOptions};

pub(crate) use csv_export::read_export_csv;
pub use entra::{ENTRA_DOWNLOAD_COLUMNS, write_entra_csv};
pub use jira::read_jira_cwd;

/// A platform's export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// Entra ID "Download users" CSV and `Get-MgUser | Export-Csv` (Graph property names).
    Entra,
    /// `Get-ADUser -Properties ... | Export-Csv` from the ActiveDirectory module.
    ActiveDirectory,
    /// Google Workspace Admin console, Users, "Download users".
    Google,
    /// Atlassian Cloud administration, Directory, Users, "Export users".
    Atlassian,
    /// Jira/Confluence Server and Data Center `cwd_*` and `app_user` tables as CSV files.
    JiraCwd,
    /// Slack, Manage members, "Export member list".
    Slack,
    /// GitHub organization, People, "Export" (CSV).
    GitHub,
    /// Okta Users and Groups API JSON (`/api/v1/users`, `/api/v1/groups`, a folder of both).
    Okta,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 8] = [
        ExportFormat::Entra,
        ExportFormat::ActiveDirectory,
        ExportFormat::Google,
        ExportFormat::Atlassian,
        ExportFormat::JiraCwd,
        ExportFormat::Slack,
        ExportFormat::GitHub,
        ExportFormat::Okta,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Entra => "entra",
            ExportFormat::ActiveDirectory => "ad",
            ExportFormat::Google => "google",
            ExportFormat::Atlassian => "atlassian",
            ExportFormat::JiraCwd => "jira-cwd",
            ExportFormat::Slack => "slack",
            ExportFormat::GitHub => "github",
            ExportFormat::Okta => "okta",
        }
    }

    /// What the export is, for messages.
    pub fn title(self) -> &'static str {
        match self {
            ExportFormat::Entra => "Microsoft Entra ID user export",
            ExportFormat::ActiveDirectory => "Active Directory Get-ADUser export",
            ExportFormat::Google => "Google Workspace user download",
            ExportFormat::Atlassian => "Atlassian Cloud user export",
            ExportFormat::JiraCwd => "Jira/Confluence cwd_* table export",
            ExportFormat::Slack => "Slack member export",
            ExportFormat::GitHub => "GitHub organization people export",
            ExportFormat::Okta => "Okta Users/Groups API export (JSON)",
        }
    }

    /// By name, with the usual other spellings (`azuread`, `mguser`, `gws`, `cwd`...).
    pub fn parse(name: &str) -> Option<ExportFormat> {
        let name: String = name
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .collect();
        Some(match name.to_ascii_lowercase().as_str() {
            "entra" | "entraid" | "azuread" | "aad" | "mguser" | "graph" => ExportFormat::Entra,
            "ad" | "activedirectory" | "aduser" | "getaduser" => ExportFormat::ActiveDirectory,
            "google" | "gws" | "googleworkspace" | "gsuite" => ExportFormat::Google,
            "atlassian" | "atlassiancloud" => ExportFormat::Atlassian,
            "jiracwd" | "cwd" | "jira" | "confluence" | "crowd" => ExportFormat::JiraCwd,
            "slack" => ExportFormat::Slack,
            "github" | "gh" => ExportFormat::GitHub,
            "okta" => ExportFormat::Okta,
            _ => return None,
        })
    }

    /// Which export a CSV header belongs to, if any. Names are compared as
    /// [`normalize_header`] leaves them. Crosswalk's own header (`type,id,...`) is none.
    pub fn detect<S: AsRef<str>>(header: &[S]) -> Option<ExportFormat> {
        profiles::detect(
            &header
                .iter()
                .map(|h| normalize_header(h.as_ref()))
                .collect::<Vec<_>>(),
        )
    }
}

/// A header cell as formats are matched on it: trimmed, lower case, Google's ` [Required]`,
/// ` [READ ONLY]` and ` [UPLOAD ONLY]` notes dropped, and Entra's bulk-template form
/// `User name [userPrincipalName] Required` reduced to the attribute in brackets.
pub fn normalize_header(cell: &str) -> String {
    let cell = cell.trim().trim_start_matches('\u{feff}').trim();
    if let (Some(open), Some(close)) = (cell.find('['), cell.find(']'))
        && open < close
    {
        let inside = cell[open + 1..close].trim();
        let note = inside.to_ascii_lowercase();
        if matches!(
            note.as_str(),
            "required" | "read only" | "upload only" | "readonly"
        ) {
            return cell[..open].trim().to_lowercase();
        }
        if !inside.is_empty() && !inside.contains(' ') {
            return inside.to_lowercase();
        }
    }
    cell.to_lowercase()
}

/// What the caller says about a directory input beyond its path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceHint {
    /// `None`: detect from the header.
    pub format: Option<ExportFormat>,
    /// `None`: by byte order mark, else UTF-8.
    pub encoding: Option<Encoding>,
}

impl SourceHint {
    /// Splits `FORMAT[+ENCODING]:PATH` (`ad+windows-1252:users.csv`, `entra:users.csv`,
    /// `+utf-16le:x.csv`) where only a path can be given (`--source`). A path that exists as
    /// written is taken as written, and a one-letter prefix is a Windows drive, not a format.
    pub fn split(spec: &Path) -> Result<(SourceHint, PathBuf), String> {
        let Some(text) = spec.to_str() else {
            return Ok((SourceHint::default(), spec.to_path_buf()));
        };
        let Some((prefix, rest)) = text.split_once(':') else {
            return Ok((SourceHint::default(), spec.to_path_buf()));
        };
        if spec.exists()
            || prefix.len() <= 1
            || rest.starts_with("//")
            || prefix.contains(['/', '\\', '.'])
        {
            return Ok((SourceHint::default(), spec.to_path_buf()));
        }
        let (format_name, encoding_name) = match prefix.split_once('+') {
            Some((format, encoding)) => (format, Some(encoding)),
            None => (prefix, None),
        };
        let mut hint = SourceHint::default();
        if !format_name.is_empty() && !format_name.eq_ignore_ascii_case("auto") {
            hint.format = Some(ExportFormat::parse(format_name).ok_or_else(|| {
                format!(
                    "unknown format {format_name:?} before the colon; the formats are {}",
                    format_names()
                )
            })?);
        }
        if let Some(name) = encoding_name {
            hint.encoding = Some(Encoding::parse(name).ok_or_else(|| {
                format!(
                    "unknown encoding {name:?}; the encodings are {}",
                    Encoding::NAMES
                )
            })?);
        }
        Ok((hint, PathBuf::from(rest)))
    }
}

/// `entra, ad, google, ...` for messages and `--help`.
pub fn format_names() -> String {
    ExportFormat::ALL
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A decoded text stream with the lines before the header already read: PowerShell 5.1's
/// `#TYPE Microsoft.ActiveDirectory.Management.ADUser` and the `version:v1.0` line of
/// Entra's bulk templates. `header` is the header line itself (not consumed from `rest`'s
/// point of view: `rest` starts with it again).
pub(crate) struct Prepared<R> {
    pub(crate) rest: std::io::Chain<
        std::io::Cursor<Vec<u8>>,
        std::io::BufReader<Decoder<std::io::BufReader<R>>>,
    >,
    pub(crate) header_cells: Vec<String>,
    pub(crate) delimiter: u8,
    /// Lines before the header (added to every line number csv reports).
    pub(crate) lines_before: u64,
}

/// Decodes `input` and reads up to the header: see [`Prepared`].
pub(crate) fn prepare<R: Read>(
    name: &str,
    input: R,
    encoding: Option<Encoding>,
) -> Result<Prepared<R>, FormatError> {
    let mut raw = std::io::BufReader::with_capacity(1 << 16, input);
    let start = raw.fill_buf().map_err(|e| FormatError::io(name, e))?;
    let encoding = choose_encoding(start, encoding);
    let mut decoded = std::io::BufReader::with_capacity(1 << 16, Decoder::new(raw, encoding));
    let mut lines_before = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = decoded
            .by_ref()
            .take(crate::limits::MAX_CSV_RECORD_BYTES as u64)
            .read_until(b'\n', &mut line)
            .map_err(|e| FormatError::io(name, e))?;
        let text = String::from_utf8_lossy(&line);
        let trimmed = text.trim();
        let preamble =
            trimmed.starts_with("#TYPE") || trimmed.to_ascii_lowercase().starts_with("version:v");
        if n == 0 || !preamble {
            break;
        }
        lines_before += 1;
    }
    // Invalid UTF-8 in the header is reported by the reader, which knows the column.
    let header_text = String::from_utf8_lossy(&line).into_owned();
    let delimiter = sniff_delimiter(&header_text);
    let mut header_cells = Vec::new();
    let mut header_reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(header_text.as_bytes());
    let mut record = csv::StringRecord::new();
    if header_reader.read_record(&mut record).unwrap_or(false) {
        header_cells = record
            .iter()
            .map(|c| c.trim_start_matches('\u{feff}').to_string())
            .collect();
    }
    Ok(Prepared {
        rest: std::io::Cursor::new(line).chain(decoded),
        header_cells,
        delimiter,
        lines_before,
    })
}

/// Reads a CSV directory file of any kind: a platform export by its header (or as `hint`
/// says), else Crosswalk's own directory CSV (decoded to UTF-8 first, so a UTF-16 copy of
/// it reads too). This is the one place CSV inputs are told apart.
pub fn read_csv_directory(
    name: &str,
    input: impl Read,
    hint: SourceHint,
    options: ReadOptions,
) -> Result<Imported, FormatError> {
    let prepared = prepare(name, input, hint.encoding)?;
    let format = hint
        .format
        .or_else(|| ExportFormat::detect(&prepared.header_cells));
    match format {
        Some(ExportFormat::JiraCwd) => Err(FormatError::invalid(
            Location::file(name),
            None,
            "a Jira cwd_* export is a folder of CSV files (cwd_user.csv, app_user.csv, cwd_membership.csv...); give the folder",
        )),
        Some(ExportFormat::Okta) => Err(FormatError::invalid(
            Location::file(name),
            None,
            "an Okta export is JSON (GET /api/v1/users, or a folder with users.json and groups.json), not CSV",
        )),
        Some(format) => read_export_csv(name, prepared, format, options),
        None if prepared.delimiter == b',' && prepared.lines_before == 0 => {
            crate::read_directory_csv(name, prepared.rest, options)
        }
        None => Err(FormatError::invalid(
            Location::line(name, prepared.lines_before + 1),
            None,
            format!(
                "this header is not one of the exports Crosswalk knows ({}) nor its own directory CSV; name the format with --format or FORMAT:PATH",
                format_names()
            ),
        )),
    }
}

/// Whether `path` is one of the Jira tables (`cwd_user.csv`...), which are read with the
/// others from its folder.
pub fn is_jira_table(path: &Path) -> bool {
    path.file_stem().and_then(|s| s.to_str()).is_some_and(|s| {
        [
            "cwd_user",
            "cwd_membership",
            "cwd_group",
            "cwd_directory",
            "app_user",
        ]
        .iter()
        .any(|t| s.eq_ignore_ascii_case(t))
    })
}

/// Reads a directory file or folder, taking `hint` into account. A folder (or a
/// `cwd_user.csv` file) is a Jira cwd_* export.
pub fn read_export_path(
    path: &Path,
    hint: SourceHint,
    options: ReadOptions,
) -> Result<Imported, FormatError> {
    if hint.format == Some(ExportFormat::Okta)
        || (hint.format.is_none() && path.is_dir() && okta::is_okta_folder(path))
    {
        return okta::read_okta_path(path, options);
    }
    if path.is_dir() {
        return read_jira_cwd(path, hint.encoding, options);
    }
    if hint.format == Some(ExportFormat::JiraCwd) || (hint.format.is_none() && is_jira_table(path))
    {
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        return read_jira_cwd(folder, hint.encoding, options);
    }
    let (name, reader) = crate::open(path)?;
    read_csv_directory(&name, reader, hint, options)
}
