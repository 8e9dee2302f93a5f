//! Query parameters (RFC 7644 §3.4.2, §3.9; RFC 9865): `filter`, `sortBy`/`sortOrder`,
//! `startIndex`/`count` or `cursor`/`count`, and `attributes`/`excludedAttributes`, read
//! from a URL's parameters or a `/.search` body and checked against a resource type.
//!
//! Paging follows the RFC's clamping: a `startIndex` below 1 is 1; a negative `count` is 0
//! (a page with only `totalResults`); a `count` above the maximum page size is the maximum.
//! A value that is not an integer is refused rather than guessed at. Sorting orders by the
//! attribute's type and case rule, a multi-valued attribute by its primary (else first)
//! value, resources without a value last, and ties by `id`, so pages are stable.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::ops::Range;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{ScimError, ScimType};
use crate::filter::{AttrPath, CompiledFilter, compare_values, get, get_in};
use crate::json::quoted;
use crate::message::SearchRequest;
use crate::schema::{Attribute, AttributeType, Resolved, ResourceType, Returned, Schema, Target};

/// Page sizes (advertised in `ServiceProviderConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Results per page when the request gives no `count`.
    pub default_page_size: u64,
    /// The most results per page, whatever `count` asks (also `filter.maxResults`).
    pub max_page_size: u64,
}

impl Default for QueryLimits {
    fn default() -> QueryLimits {
        QueryLimits {
            default_page_size: 100,
            max_page_size: 1000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Ascending,
    Descending,
}

/// `sortBy` and `sortOrder`, checked.
#[derive(Debug, Clone)]
pub struct Sort {
    pub path: AttrPath,
    pub target: Target,
    pub order: SortOrder,
}

impl Sort {
    pub fn parse(
        sort_by: &str,
        sort_order: Option<&str>,
        rt: &'static ResourceType,
    ) -> Result<Sort, ScimError> {
        let path = AttrPath::parse(sort_by)
            .map_err(|e| ScimError::invalid_value(format!("sortBy {}: {e}", quoted(sort_by))))?;
        let target = match rt.resolve(&path) {
            Ok(Resolved::Attribute(target)) => target,
            Ok(Resolved::NotStored) => {
                return Err(ScimError::invalid_value(format!(
                    "cannot sort by {path}: Crosswalk does not store it"
                )));
            }
            Ok(_) => {
                return Err(ScimError::invalid_value(format!(
                    "cannot sort by {path}: name one attribute"
                )));
            }
            Err(message) => return Err(ScimError::invalid_value(format!("sortBy: {message}"))),
        };
        let target = match (target.sub, target.attribute.kind) {
            (None, AttributeType::Complex) => match target.attribute.sub("value") {
                Some(value) => Target {
                    sub: Some(value),
                    ..target
                },
                None => {
                    return Err(ScimError::invalid_value(format!(
                        "cannot sort by {path}: it is complex; sort by one of its sub-attributes"
                    )));
                }
            },
            _ => target,
        };
        let order = match sort_order.map(str::trim) {
            None | Some("") => SortOrder::Ascending,
            Some(o) if o.eq_ignore_ascii_case("ascending") => SortOrder::Ascending,
            Some(o) if o.eq_ignore_ascii_case("descending") => SortOrder::Descending,
            Some(o) => {
                return Err(ScimError::invalid_value(format!(
                    "sortOrder {} is not ascending or descending",
                    quoted(o)
                )));
            }
        };
        Ok(Sort {
            path,
            target,
            order,
        })
    }

    /// The value a resource is sorted by: for a multi-valued attribute, the primary value's
    /// (else the first's).
    pub fn key<'v>(&self, resource: &'v Value) -> Option<&'v Value> {
        let value = crate::filter::container(resource, &self.target)
            .and_then(|c| get(c, self.target.attribute.name))?;
        let element = match value {
            Value::Array(items) => items
                .iter()
                .find(|e| get(e, "primary").and_then(crate::json::bool_of) == Some(true))
                .or_else(|| items.first())?,
            other => other,
        };
        match self.target.sub {
            Some(sub) => get(element, sub.name).filter(|v| !v.is_null()),
            None => Some(element).filter(|v| !v.is_null()),
        }
    }

    /// The order of two resources: by key (resources without one after those with one,
    /// reversed for descending), then by `id`.
    pub fn compare(&self, a: &Value, b: &Value) -> Ordering {
        let leaf = self.target.leaf();
        let by_key = match (self.key(a), self.key(b)) {
            (Some(x), Some(y)) => compare_values(leaf, x, y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        let by_key = if self.order == SortOrder::Descending {
            by_key.reverse()
        } else {
            by_key
        };
        by_key.then_with(|| id_of(a).cmp(id_of(b)))
    }
}

fn id_of(resource: &Value) -> &str {
    get(resource, "id").and_then(Value::as_str).unwrap_or("")
}

/// Which page to give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// `startIndex` (1-based, at least 1) and `count` (0 to the maximum).
    Index { start_index: u64, count: u64 },
    /// RFC 9865: `cursor` (`None` for the first page) and `count` (1 to the maximum).
    Cursor { cursor: Option<String>, count: u64 },
}

impl Page {
    /// The positions (0-based) of an index page among `total` results.
    pub fn range(&self, total: u64) -> Range<u64> {
        match *self {
            Page::Index { start_index, count } => {
                let start = (start_index - 1).min(total);
                start..start.saturating_add(count).min(total)
            }
            Page::Cursor { count, .. } => 0..count.min(total),
        }
    }

    pub fn count(&self) -> u64 {
        match self {
            Page::Index { count, .. } | Page::Cursor { count, .. } => *count,
        }
    }
}

/// A list request, checked: what the store and the server need to answer it.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: Option<CompiledFilter>,
    pub sort: Option<Sort>,
    pub page: Page,
    pub projection: Projection,
    /// Binds cursors to this query (filter, sort, projection), so a cursor from another
    /// query is refused.
    fingerprint: [u8; 8],
}

const PARAMETERS: [&str; 8] = [
    "filter",
    "sortBy",
    "sortOrder",
    "startIndex",
    "count",
    "cursor",
    "attributes",
    "excludedAttributes",
];

impl ListQuery {
    /// From a URL's query parameters, already percent-decoded. Names ignore case; unknown
    /// parameters are ignored; one given twice is refused.
    pub fn from_params<K: AsRef<str>, V: AsRef<str>>(
        params: impl IntoIterator<Item = (K, V)>,
        rt: &'static ResourceType,
        limits: QueryLimits,
    ) -> Result<ListQuery, ScimError> {
        let mut found: HashMap<&'static str, String> = HashMap::new();
        for (name, value) in params {
            let Some(known) = PARAMETERS
                .iter()
                .find(|p| p.eq_ignore_ascii_case(name.as_ref()))
            else {
                continue;
            };
            if found.insert(known, value.as_ref().to_string()).is_some() {
                return Err(ScimError::invalid_value(format!(
                    "the parameter {known} is given twice"
                )));
            }
        }
        let filter = match found
            .get("filter")
            .map(|f| f.trim())
            .filter(|f| !f.is_empty())
        {
            Some(text) => Some(CompiledFilter::parse(text, rt)?),
            None => None,
        };
        let sort = match found
            .get("sortBy")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            Some(sort_by) => Some(Sort::parse(
                sort_by,
                found.get("sortOrder").map(String::as_str),
                rt,
            )?),
            None => None,
        };
        let projection = Projection::parse(
            found.get("attributes").map(String::as_str),
            found.get("excludedAttributes").map(String::as_str),
            rt,
        )?;
        let page = match (found.get("cursor"), found.get("startIndex")) {
            (Some(_), Some(_)) => {
                return Err(ScimError::invalid_value(
                    "give startIndex or cursor, not both: they are two ways of paging",
                ));
            }
            (Some(cursor), None) => {
                let count = match found.get("count") {
                    None => limits.default_page_size,
                    Some(text) => match integer(text) {
                        Some(n) if n >= 1 => (n as u64).min(limits.max_page_size),
                        _ => {
                            return Err(ScimError::bad_request(
                                ScimType::InvalidCount,
                                format!(
                                    "count {} must be an integer from 1 to {}",
                                    quoted(text),
                                    limits.max_page_size
                                ),
                            ));
                        }
                    },
                };
                if let Some(bad) = cursor
                    .chars()
                    .find(|c| !(c.is_ascii_alphanumeric() || "-._~".contains(*c)))
                {
                    return Err(ScimError::bad_request(
                        ScimType::InvalidCursor,
                        format!(
                            "the cursor holds {bad:?}; use the nextCursor of a previous page, or an empty cursor for the first"
                        ),
                    ));
                }
                Page::Cursor {
                    cursor: Some(cursor.clone()).filter(|c| !c.is_empty()),
                    count,
                }
            }
            (None, start) => {
                let start_index = match start {
                    None => 1,
                    Some(text) => match integer(text) {
                        Some(n) => n.max(1) as u64,
                        None => {
                            return Err(ScimError::invalid_value(format!(
                                "startIndex {} is not an integer",
                                quoted(text)
                            )));
                        }
                    },
                };
                let count = match found.get("count") {
                    None => limits.default_page_size,
                    Some(text) => match integer(text) {
                        Some(n) => (n.max(0) as u64).min(limits.max_page_size),
                        None => {
                            return Err(ScimError::invalid_value(format!(
                                "count {} is not an integer",
                                quoted(text)
                            )));
                        }
                    },
                };
                Page::Index { start_index, count }
            }
        };
        let mut hasher = Sha256::new();
        for part in [
            filter.as_ref().map(|f| f.filter().to_string()),
            sort.as_ref().map(|s| format!("{} {:?}", s.target, s.order)),
            found.get("attributes").cloned(),
            found.get("excludedAttributes").cloned(),
        ] {
            hasher.update(part.unwrap_or_default().as_bytes());
            hasher.update([0]);
        }
        let digest = hasher.finalize();
        let mut fingerprint = [0u8; 8];
        fingerprint.copy_from_slice(&digest[..8]);
        Ok(ListQuery {
            filter,
            sort,
            page,
            projection,
            fingerprint,
        })
    }

    /// From a `POST /.search` body.
    pub fn from_search(
        request: &SearchRequest,
        rt: &'static ResourceType,
        limits: QueryLimits,
    ) -> Result<ListQuery, ScimError> {
        ListQuery::from_params(
            request.params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            rt,
            limits,
        )
    }

    /// Whether a resource passes the filter (all do without one).
    pub fn matches(&self, resource: &Value) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches(resource))
    }

    /// The order of two resources: by `sortBy` if given, then (and otherwise) by `id`.
    pub fn compare(&self, a: &Value, b: &Value) -> Ordering {
        match &self.sort {
            Some(sort) => sort.compare(a, b),
            None => id_of(a).cmp(id_of(b)),
        }
    }

    /// An opaque cursor (RFC 9865) for a position the server chooses (say, the last id of
    /// the page), bound to this query. Only unreserved URL characters.
    pub fn encode_cursor(&self, position: &str) -> String {
        let mut out = String::with_capacity(16 + position.len() * 2);
        for byte in self.fingerprint.iter().chain(position.as_bytes()) {
            out.push_str(&format!("{byte:02x}"));
        }
        out
    }

    /// The position in a cursor from [`ListQuery::encode_cursor`]; a cursor from another
    /// query, or not one at all, is a 400 `invalidCursor`.
    pub fn decode_cursor(&self, cursor: &str) -> Result<String, ScimError> {
        let invalid = || {
            ScimError::bad_request(
                ScimType::InvalidCursor,
                "the cursor is not one this service gave for this query; start again with an empty cursor",
            )
        };
        if !cursor.len().is_multiple_of(2) || cursor.len() < 16 {
            return Err(invalid());
        }
        let bytes: Option<Vec<u8>> = (0..cursor.len())
            .step_by(2)
            .map(|i| {
                cursor
                    .get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect();
        let bytes = bytes.ok_or_else(invalid)?;
        if bytes[..8] != self.fingerprint {
            return Err(invalid());
        }
        String::from_utf8(bytes[8..].to_vec()).map_err(|_| invalid())
    }
}

fn integer(text: &str) -> Option<i64> {
    let text = text.trim();
    text.parse::<i64>().ok().or_else(|| {
        // Very large counts are still counts: clamp rather than refuse.
        (!text.is_empty()
            && text
                .trim_start_matches(['-', '+'])
                .bytes()
                .all(|b| b.is_ascii_digit()))
        .then(|| {
            if text.starts_with('-') {
                i64::MIN
            } else {
                i64::MAX
            }
        })
    })
}

// ---------------------------------------------------------------------------------------
// attributes / excludedAttributes
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Selected {
    /// An attribute, whole or (with `sub`) one sub-attribute of it.
    Attribute(Target),
    Extension(&'static Schema),
}

/// Which attributes a response holds (RFC 7644 §3.9, RFC 7643 §7 `returned`).
#[derive(Debug, Clone, Default)]
pub struct Projection {
    include: Option<Vec<Selected>>,
    exclude: Vec<Selected>,
}

impl Projection {
    /// From the parameters' comma-separated attribute paths. Names Crosswalk does not know
    /// or store are ignored (there is nothing to return for them).
    pub fn parse(
        attributes: Option<&str>,
        excluded: Option<&str>,
        rt: &'static ResourceType,
    ) -> Result<Projection, ScimError> {
        let list = |text: Option<&str>| -> Result<Option<Vec<Selected>>, ScimError> {
            let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
                return Ok(None);
            };
            let mut out = Vec::new();
            for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let path = AttrPath::parse(name).map_err(|e| {
                    ScimError::invalid_value(format!("attribute {}: {e}", quoted(name)))
                })?;
                match rt.resolve(&path) {
                    Ok(Resolved::Attribute(target)) => out.push(Selected::Attribute(target)),
                    Ok(Resolved::Extension(schema)) => out.push(Selected::Extension(schema)),
                    Ok(Resolved::Schemas | Resolved::NotStored) | Err(_) => {}
                }
            }
            Ok(Some(out))
        };
        Ok(Projection {
            include: list(attributes)?,
            exclude: list(excluded)?.unwrap_or_default(),
        })
    }

    /// Every attribute as returned by default.
    pub fn all() -> Projection {
        Projection::default()
    }

    /// Applies the projection to a resource's JSON: `schemas` and `id` (returned `always`)
    /// stay whatever is asked; `returned: never` attributes go; `returned: request` ones
    /// stay only when named in `attributes`.
    pub fn apply(&self, resource: &mut Value, rt: &'static ResourceType) {
        let Value::Object(object) = resource else {
            return;
        };
        let empty = |v: &Value| matches!(v, Value::Object(m) if m.is_empty());
        let empty_before: Vec<String> = object
            .iter()
            .filter(|(_, v)| empty(v))
            .map(|(k, _)| k.clone())
            .collect();
        if let Some(include) = &self.include {
            let mut out = Map::new();
            for key in ["schemas"] {
                if let Some(value) = get_in(object, key) {
                    out.insert(key.to_string(), value.clone());
                }
            }
            for (extension, attribute) in rt.attributes() {
                if attribute.returned == Returned::Always {
                    copy_attribute(object, &mut out, extension, attribute, None);
                }
            }
            for selected in include {
                match selected {
                    Selected::Extension(schema) => {
                        if let Some(value) = get_in(object, schema.id) {
                            out.insert(schema.id.to_string(), value.clone());
                        }
                    }
                    Selected::Attribute(target) => {
                        if target.attribute.returned != Returned::Never {
                            copy_attribute(
                                object,
                                &mut out,
                                target.extension,
                                target.attribute,
                                target.sub,
                            );
                        }
                    }
                }
            }
            *object = out;
        } else {
            for (extension, attribute) in rt.attributes() {
                if matches!(attribute.returned, Returned::Never | Returned::Request) {
                    remove_attribute(object, extension, attribute, None);
                }
            }
        }
        for selected in &self.exclude {
            match selected {
                Selected::Extension(schema) => {
                    if !schema
                        .attributes
                        .iter()
                        .any(|a| a.returned == Returned::Always)
                    {
                        object.retain(|k, _| !k.eq_ignore_ascii_case(schema.id));
                    }
                }
                Selected::Attribute(target) => {
                    if target.attribute.returned != Returned::Always {
                        remove_attribute(object, target.extension, target.attribute, target.sub);
                    }
                }
            }
        }
        // An extension the projection left empty says nothing (one that was empty before
        // is the resource's: it is kept, as the service shows it).
        object.retain(|k, v| !empty(v) || empty_before.contains(k));
    }
}

fn key_in(object: &Map<String, Value>, name: &str) -> Option<String> {
    if object.contains_key(name) {
        return Some(name.to_string());
    }
    object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
}

/// Copies an attribute (or one sub-attribute of it) from `from` into `to`, merging with
/// sub-attributes already copied.
fn copy_attribute(
    from: &Map<String, Value>,
    to: &mut Map<String, Value>,
    extension: Option<&'static Schema>,
    attribute: &'static Attribute,
    sub: Option<&'static Attribute>,
) {
    let source = match extension {
        None => Some(from),
        Some(schema) => get_in(from, schema.id).and_then(Value::as_object),
    };
    let Some(value) = source.and_then(|s| get_in(s, attribute.name)) else {
        return;
    };
    let destination = match extension {
        None => to,
        Some(schema) => {
            match to
                .entry(schema.id.to_string())
                .or_insert_with(|| Value::Object(Map::new()))
            {
                Value::Object(map) => map,
                _ => return,
            }
        }
    };
    let Some(sub) = sub else {
        destination.insert(attribute.name.to_string(), value.clone());
        return;
    };
    let pick = |element: &Value| -> Value {
        let mut picked = Map::new();
        if let Some(v) = get(element, sub.name) {
            picked.insert(sub.name.to_string(), v.clone());
        }
        Value::Object(picked)
    };
    match (value, destination.get_mut(attribute.name)) {
        (Value::Array(items), Some(Value::Array(existing))) if existing.len() == items.len() => {
            for (item, slot) in items.iter().zip(existing.iter_mut()) {
                if let (Value::Object(new), Value::Object(slot)) = (pick(item), slot) {
                    slot.extend(new);
                }
            }
        }
        (Value::Array(items), _) => {
            destination.insert(
                attribute.name.to_string(),
                Value::Array(items.iter().map(pick).collect()),
            );
        }
        (element, Some(Value::Object(existing))) => {
            if let Value::Object(new) = pick(element) {
                existing.extend(new);
            }
        }
        (element, _) => {
            destination.insert(attribute.name.to_string(), pick(element));
        }
    }
}

fn remove_attribute(
    object: &mut Map<String, Value>,
    extension: Option<&'static Schema>,
    attribute: &'static Attribute,
    sub: Option<&'static Attribute>,
) {
    let container = match extension {
        None => Some(object),
        Some(schema) => key_in(object, schema.id)
            .and_then(|k| object.get_mut(&k))
            .and_then(Value::as_object_mut),
    };
    let Some(container) = container else { return };
    let Some(key) = key_in(container, attribute.name) else {
        return;
    };
    match sub {
        None => {
            container.remove(&key);
        }
        Some(sub) => {
            if let Some(value) = container.get_mut(&key) {
                let strip = |element: &mut Value| {
                    if let Value::Object(members) = element {
                        members.retain(|k, _| !k.eq_ignore_ascii_case(sub.name));
                    }
                };
                match value {
                    Value::Array(items) => items.iter_mut().for_each(strip),
                    other => strip(other),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{GROUP, USER};
    use serde_json::json;

    fn query(params: &[(&str, &str)]) -> Result<ListQuery, ScimError> {
        ListQuery::from_params(
            params.iter().copied(),
            &USER,
            QueryLimits {
                default_page_size: 20,
                max_page_size: 100,
            },
        )
    }

    #[test]
    fn paging_clamps_as_the_rfc_says() {
        assert_eq!(
            query(&[]).unwrap().page,
            Page::Index {
                start_index: 1,
                count: 20
            }
        );
        assert_eq!(
            query(&[("startIndex", "0"), ("count", "-5")]).unwrap().page,
            Page::Index {
                start_index: 1,
                count: 0
            }
        );
        assert_eq!(
            query(&[("STARTINDEX", "3"), ("count", "1000")])
                .unwrap()
                .page,
            Page::Index {
                start_index: 3,
                count: 100
            }
        );
        assert_eq!(
            query(&[("count", "99999999999999999999999")]).unwrap().page,
            Page::Index {
                start_index: 1,
                count: 100
            }
        );
        assert_eq!(
            query(&[("count", "ten")]).unwrap_err().scim_type,
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            query(&[("startIndex", "1.5")]).unwrap_err().scim_type,
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            query(&[("cursor", ""), ("count", "0")])
                .unwrap_err()
                .scim_type,
            Some(ScimType::InvalidCount)
        );
        assert_eq!(
            query(&[("cursor", "a b")]).unwrap_err().scim_type,
            Some(ScimType::InvalidCursor)
        );
        assert_eq!(
            query(&[("cursor", ""), ("startIndex", "1")])
                .unwrap_err()
                .scim_type,
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            query(&[("cursor", "")]).unwrap().page,
            Page::Cursor {
                cursor: None,
                count: 20
            }
        );
        assert_eq!(
            query(&[("count", "1"), ("count", "2")])
                .unwrap_err()
                .scim_type,
            Some(ScimType::InvalidValue)
        );
        let page = Page::Index {
            start_index: 9,
            count: 5,
        };
        assert_eq!(page.range(10), 8..10);
        assert_eq!(page.range(3), 3..3);
    }

    #[test]
    fn cursors_are_bound_to_their_query() {
        let first = query(&[("filter", "userName sw \"a\""), ("cursor", "")]).unwrap();
        let cursor = first.encode_cursor("u-0042");
        assert!(cursor.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(first.decode_cursor(&cursor).unwrap(), "u-0042");
        let other = query(&[("filter", "userName sw \"b\""), ("cursor", &cursor)]).unwrap();
        assert_eq!(
            other.decode_cursor(&cursor).unwrap_err().scim_type,
            Some(ScimType::InvalidCursor)
        );
        assert!(first.decode_cursor("zz").is_err());
    }

    #[test]
    fn sorting_follows_type_case_and_primary_with_ties_by_id() {
        let a = json!({"id": "2", "userName": "alice", "emails": [{"value": "z@x", "primary": false}, {"value": "b@x", "primary": true}]});
        let b = json!({"id": "1", "userName": "Bob", "emails": [{"value": "a@x"}]});
        let c = json!({"id": "3"});
        let sort = Sort::parse("userName", None, &USER).unwrap();
        assert_eq!(sort.compare(&a, &b), Ordering::Less);
        assert_eq!(sort.compare(&b, &c), Ordering::Less);
        let sort = Sort::parse("emails", Some("Descending"), &USER).unwrap();
        assert_eq!(
            sort.compare(&a, &b),
            Ordering::Less,
            "b@x sorts after a@x, reversed"
        );
        assert!(
            Sort::parse("title", None, &USER)
                .unwrap_err()
                .detail
                .contains("does not store")
        );
        assert!(Sort::parse("userName", Some("sideways"), &USER).is_err());
        assert!(Sort::parse("name", None, &USER).is_err());
    }

    #[test]
    fn projection_keeps_id_and_schemas() {
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "u1", "userName": "bjensen", "displayName": "Babs",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "b@x", "type": "work", "primary": true}],
            "meta": {"resourceType": "User"}
        });
        let project = |attributes: Option<&str>, excluded: Option<&str>| {
            let mut resource = user.clone();
            Projection::parse(attributes, excluded, &USER)
                .unwrap()
                .apply(&mut resource, &USER);
            resource
        };
        assert_eq!(
            project(Some("userName,emails.value,name.givenName,nosuch"), None),
            json!({"schemas": user["schemas"], "id": "u1", "userName": "bjensen", "emails": [{"value": "b@x"}], "name": {"givenName": "Barbara"}})
        );
        assert_eq!(
            project(Some("emails.value,emails.type"), None)["emails"],
            json!([{"value": "b@x", "type": "work"}])
        );
        let excluded = project(None, Some("id,emails,name.familyName,meta"));
        assert_eq!(excluded["id"], "u1");
        assert!(excluded.get("emails").is_none() && excluded.get("meta").is_none());
        assert_eq!(excluded["name"], json!({"givenName": "Barbara"}));
        let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g", "displayName": "G", "members": [{"value": "u1"}]});
        let mut projected = group.clone();
        Projection::parse(None, Some("members"), &GROUP)
            .unwrap()
            .apply(&mut projected, &GROUP);
        assert_eq!(
            projected,
            json!({"schemas": group["schemas"], "id": "g", "displayName": "G"})
        );
    }
}
