//! Item references: the content that refers to identities, as the items CSV (one reference a
//! row, in `planning`) or as JSON Lines (one item a line, with all its references):
//!
//! ```text
//! {"container":"ENG","container_type":"space","item":"page-1","item_type":"page","title":"Runbook",
//!  "references":[{"role":"creator","type":"account","identity":"u-ana"},
//!                {"role":"permission","type":"group","identity":"g-eng","permissions":3}]}
//! ```
//!
//! (one line in the file). Both read into the same [`Reference`]s, checked the same way; the
//! first bad row or field fails the whole read, naming the file, the line and the field (a
//! JSON pointer inside the line), so nothing half-read reaches the store.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use crosswalk_core::IdentityKind;
use crosswalk_plan::{ItemDetails, Reference, Role};
use serde_json::{Map, Value};

use crate::error::{FormatError, Location, quoted};
use crate::report::defuse_formula;

/// The longest JSON Lines line (one item with its references) read.
pub const MAX_ITEM_LINE_BYTES: u64 = crate::limits::MAX_CSV_RECORD_BYTES;

/// Which file format the item references are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemsFormat {
    Csv,
    Jsonl,
}

impl ItemsFormat {
    /// By the file's extension: `.jsonl`/`.ndjson` are JSON Lines, anything else CSV.
    pub fn of_path(path: &Path) -> ItemsFormat {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("jsonl" | "ndjson") => ItemsFormat::Jsonl,
            _ => ItemsFormat::Csv,
        }
    }
}

/// Reads item references in `format`.
pub fn read_items(
    source_name: &str,
    input: impl Read,
    format: ItemsFormat,
) -> Result<Vec<Reference>, FormatError> {
    match format {
        ItemsFormat::Csv => crate::planning::read_items_csv(source_name, input),
        ItemsFormat::Jsonl => read_items_jsonl(source_name, input),
    }
}

/// [`read_items`] on a file, its format by its extension, named by its path.
pub fn read_items_file(path: impl AsRef<Path>) -> Result<Vec<Reference>, FormatError> {
    let path = path.as_ref();
    let (name, reader) = crate::open(path)?;
    read_items(&name, reader, ItemsFormat::of_path(path))
}

/// A permission count as the file gives it.
pub(crate) enum Permissions<'a> {
    Text(&'a str),
    Json(Option<&'a Value>),
}

/// One reference's fields as read, before they are checked.
pub(crate) struct ReferenceFields<'a> {
    pub(crate) container: &'a str,
    pub(crate) item: &'a str,
    pub(crate) role: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) identity: &'a str,
    pub(crate) container_type: &'a str,
    pub(crate) item_type: &'a str,
    pub(crate) title: &'a str,
    pub(crate) permissions: Permissions<'a>,
}

impl ReferenceFields<'_> {
    /// The reference, or the field that is wrong (as the CSV names it) and why.
    pub(crate) fn check(&self) -> Result<Reference, (&'static str, String)> {
        let required = |field: &'static str, value: &str| -> Result<(), (&'static str, String)> {
            if value.trim().is_empty() {
                Err((field, "is required".into()))
            } else {
                Ok(())
            }
        };
        required("container", self.container)?;
        required("role", self.role)?;
        let role = Role::parse(self.role).ok_or_else(|| {
            let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            (
                "role",
                format!(
                    "expected one of {}, found {}",
                    roles.join(", "),
                    quoted(self.role.trim())
                ),
            )
        })?;
        required("type", self.kind)?;
        let kind = IdentityKind::parse(self.kind.trim()).ok_or_else(|| {
            (
                "type",
                format!(
                    "expected account or group, found {}",
                    quoted(self.kind.trim())
                ),
            )
        })?;
        required("identity", self.identity)?;
        for (field, value) in [
            ("container", self.container),
            ("identity", self.identity),
            ("item", self.item),
        ] {
            if let Some(problem) = crosswalk_core::directory::identifier_problem(value.trim()) {
                return Err((field, problem));
            }
        }
        for (field, value) in [
            ("container_type", self.container_type),
            ("item_type", self.item_type),
            ("title", self.title),
        ] {
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err((
                    field,
                    "holds a control character (a line break?); remove it".into(),
                ));
            }
        }
        let item = Some(self.item.trim()).filter(|i| !i.is_empty());
        if item.is_none() && role != Role::Permission {
            return Err((
                "item",
                format!("is required for role {role}; only a permission may leave it empty"),
            ));
        }
        let given = match self.permissions {
            Permissions::Text(text) if text.trim().is_empty() => None,
            Permissions::Text(text) => Some(text.trim().parse::<u32>().map_err(|_| {
                (
                    "permissions",
                    format!(
                        "expected a whole number of permissions (0 to {}), found {}",
                        u32::MAX,
                        quoted(text.trim())
                    ),
                )
            })?),
            Permissions::Json(None | Some(Value::Null)) => None,
            Permissions::Json(Some(value)) => Some(
                value
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        (
                            "permissions",
                            format!(
                                "expected a whole number of permissions (0 to {}), found {value}",
                                u32::MAX
                            ),
                        )
                    })?,
            ),
        };
        let permissions = match (role, given) {
            (Role::Permission, None) => 1,
            (Role::Permission, Some(count)) => count,
            (_, None | Some(0)) => 0,
            (_, Some(_)) => {
                return Err((
                    "permissions",
                    format!("counts permissions; a {role} reference has none, leave it empty"),
                ));
            }
        };
        Ok(Reference {
            container: self.container.trim().into(),
            item: item.map(Into::into),
            role,
            kind,
            identity: self.identity.trim().into(),
            details: ItemDetails {
                container_type: self.container_type.trim().into(),
                item_type: self.item_type.trim().into(),
                title: self.title.trim().into(),
            },
            permissions,
        })
    }
}

/// Reads item references as JSON Lines: one item a line (blank lines skipped), each an
/// object with `container`, optional `container_type`, `item` (absent or null: the container
/// itself, for permissions), `item_type`, `title`, and `references`, a non-empty array of
/// `{role, type, identity, permissions?}`. The first bad line fails the read.
pub fn read_items_jsonl(
    source_name: &str,
    input: impl Read,
) -> Result<Vec<Reference>, FormatError> {
    let mut reader = BufReader::with_capacity(1 << 16, input);
    let mut references = Vec::new();
    let mut buffer = Vec::new();
    let mut line: u64 = 0;
    loop {
        line += 1;
        buffer.clear();
        let read = (&mut reader)
            .take(MAX_ITEM_LINE_BYTES + 1)
            .read_until(b'\n', &mut buffer)
            .map_err(|e| FormatError::io(source_name, e))?;
        if read == 0 {
            break;
        }
        let at = |pointer: String, reason: String| {
            let field = pointer.rsplit('/').next().unwrap_or_default().to_string();
            FormatError::invalid(
                Location {
                    file: source_name.to_string(),
                    line: Some(line),
                    pointer: Some(pointer),
                },
                Some(&field).filter(|f| !f.is_empty()).map(String::as_str),
                reason,
            )
        };
        if buffer.len() as u64 > MAX_ITEM_LINE_BYTES {
            return Err(at(
                String::new(),
                crate::limits::TooLong {
                    what: "a JSON Lines line",
                    limit: MAX_ITEM_LINE_BYTES,
                }
                .to_string(),
            ));
        }
        let text = std::str::from_utf8(&buffer).map_err(|_| {
            at(
                String::new(),
                "is not valid UTF-8; save the file as UTF-8".into(),
            )
        })?;
        let text = if line == 1 {
            text.trim_start_matches('\u{feff}')
        } else {
            text
        };
        if text.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(text)
            .map_err(|e| at(String::new(), format!("is not valid JSON: {e}")))?;
        let Value::Object(object) = value else {
            return Err(at(
                String::new(),
                "expected an object (one item with its references) on each line".into(),
            ));
        };
        read_item(&object, &mut references).map_err(|(pointer, reason)| at(pointer, reason))?;
    }
    Ok(references)
}

/// One line's item into `references`, or the JSON pointer that is wrong and why.
fn read_item(
    object: &Map<String, Value>,
    references: &mut Vec<Reference>,
) -> Result<(), (String, String)> {
    const ITEM_FIELDS: [&str; 6] = [
        "container",
        "container_type",
        "item",
        "item_type",
        "title",
        "references",
    ];
    const REFERENCE_FIELDS: [&str; 4] = ["role", "type", "identity", "permissions"];
    if let Some(unknown) = object.keys().find(|k| !ITEM_FIELDS.contains(&k.as_str())) {
        return Err((
            format!("/{}", escape(unknown)),
            format!(
                "is not a field of an item; expected {}",
                ITEM_FIELDS.join(", ")
            ),
        ));
    }
    let text = |object: &Map<String, Value>,
                prefix: &str,
                name: &str|
     -> Result<String, (String, String)> {
        match object.get(name) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) if name == "item" || name == "identity" => Ok(n.to_string()),
            Some(other) => Err((
                format!("{prefix}/{name}"),
                format!("expected a string, found {}", kind_of(other)),
            )),
        }
    };
    let container = text(object, "", "container")?;
    let item = text(object, "", "item")?;
    let container_type = text(object, "", "container_type")?;
    let item_type = text(object, "", "item_type")?;
    let title = text(object, "", "title")?;
    let list = match object.get("references") {
        Some(Value::Array(list)) if !list.is_empty() => list,
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            return Err((
                "/references".into(),
                "is required: a non-empty array of {role, type, identity}".into(),
            ));
        }
        Some(other) => {
            return Err((
                "/references".into(),
                format!("expected an array, found {}", kind_of(other)),
            ));
        }
    };
    if container.trim().is_empty() {
        return Err(("/container".into(), "is required".into()));
    }
    for (index, entry) in list.iter().enumerate() {
        let prefix = format!("/references/{index}");
        let Value::Object(entry) = entry else {
            return Err((
                prefix,
                format!(
                    "expected an object {{role, type, identity}}, found {}",
                    kind_of(entry)
                ),
            ));
        };
        if let Some(unknown) = entry
            .keys()
            .find(|k| !REFERENCE_FIELDS.contains(&k.as_str()))
        {
            return Err((
                format!("{prefix}/{}", escape(unknown)),
                format!(
                    "is not a field of a reference; expected {}",
                    REFERENCE_FIELDS.join(", ")
                ),
            ));
        }
        let (role, kind, identity) = (
            text(entry, &prefix, "role")?,
            text(entry, &prefix, "type")?,
            text(entry, &prefix, "identity")?,
        );
        let fields = ReferenceFields {
            container: &container,
            item: &item,
            role: &role,
            kind: &kind,
            identity: &identity,
            container_type: &container_type,
            item_type: &item_type,
            title: &title,
            permissions: Permissions::Json(entry.get("permissions")),
        };
        let reference = fields.check().map_err(|(field, reason)| {
            let pointer = if ["role", "type", "identity", "permissions"].contains(&field) {
                format!("{prefix}/{field}")
            } else {
                format!("/{field}")
            };
            (pointer, reason)
        })?;
        references.push(reference);
    }
    Ok(())
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON pointer segment (RFC 6901).
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Writes a CSV with `header` and `rows`, every cell a spreadsheet would run as a formula
/// neutralised ([`defuse_formula`]): for the affected-items and re-attribution exports.
pub fn write_safe_csv<R, C>(
    header: &[&str],
    rows: impl IntoIterator<Item = R>,
    output: impl Write,
) -> std::io::Result<()>
where
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut writer = SafeCsvWriter::new(header, output)?;
    for row in rows {
        writer.row(row)?;
    }
    writer.flush()
}

/// A spreadsheet-safe CSV written a row at a time after its header, for lists written as
/// they are read (page by page), never held whole.
pub struct SafeCsvWriter<W: Write>(csv::Writer<W>);

impl<W: Write> SafeCsvWriter<W> {
    pub fn new(header: &[&str], output: W) -> std::io::Result<SafeCsvWriter<W>> {
        let mut writer = csv::WriterBuilder::new().from_writer(output);
        writer.write_record(header)?;
        Ok(SafeCsvWriter(writer))
    }

    /// One row, each cell neutralised where a spreadsheet would read it as a formula.
    pub fn row<C: AsRef<str>>(
        &mut self,
        cells: impl IntoIterator<Item = C>,
    ) -> std::io::Result<()> {
        let cells: Vec<String> = cells
            .into_iter()
            .map(|cell| defuse_formula(cell.as_ref()).into_owned())
            .collect();
        Ok(self.0.write_record(&cells)?)
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
