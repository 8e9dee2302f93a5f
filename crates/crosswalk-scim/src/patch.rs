//! PATCH (RFC 7644 §3.5.2): parsing a `PatchOp` and applying its operations to a typed
//! resource.
//!
//! Operations are applied in order to the resource's JSON, guided by the schema (names
//! resolved without regard to case, values converted to the attribute's type), and the
//! result is read back into the typed resource, so a PATCH can never leave a resource its
//! reader would refuse. What real clients send is accepted as they send it:
//!
//! * `op` in any case (Entra: `Add`, `Replace`, `Remove`);
//! * booleans as strings (`"value": "False"`);
//! * a pathless `add`/`replace` whose keys are attribute paths (`"name.givenName"`,
//!   `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"`) or
//!   extension objects, as Entra sends with `aadOptscim062020`;
//! * `remove` of a multi-valued attribute with a `value` array (Entra's member removal:
//!   `path: "members"`, `value: [{"value": "id"}]`) removes only the values listed;
//! * `add`/`replace` through a value filter that matches nothing (Entra's
//!   `emails[type eq "work"].value` on a user with no work address) adds a value built from
//!   the filter's `eq` tests;
//! * `remove` through a filter that matches nothing succeeds and changes nothing (a client
//!   retrying a member removal must not fail).
//!
//! Errors: `noTarget` (a pathless `remove`, a filter matching nothing where a value cannot
//! be made from it), `invalidPath` (a path that does not parse or names no attribute),
//! `invalidValue` (a value of the wrong type), `mutability` (changing a read-only
//! attribute such as `id`, `meta` or `groups`, changing an immutable one, removing a
//! required one). Attributes SCIM defines but Crosswalk does not store are accepted and
//! dropped; a read-only attribute set to the value it already has is not a change (Okta's
//! group rename sends the group's `id` along).

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::{AttrPath, CompValue, CompareOp, Filter, PatchPath, Test, fold_case};
use crate::filter::{ElementFilter, get_in};
use crate::json::{bool_of, describe, find, parse_strict, quoted};
use crate::resource::{Group, User};
use crate::schema::{
    Attribute, AttributeType, GROUP, Mutability, Resolved, ResourceType, Schema, Target, USER,
};

/// `add`, `remove` or `replace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Add,
    Remove,
    Replace,
}

impl PatchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PatchKind::Add => "add",
            PatchKind::Remove => "remove",
            PatchKind::Replace => "replace",
        }
    }
}

/// One operation of a `PatchOp`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchKind,
    pub path: Option<PatchPath>,
    /// `None` when the request had no `value` member.
    pub value: Option<Value>,
}

/// A `PatchOp` request (RFC 7644 §3.5.2).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    pub operations: Vec<PatchOperation>,
}

impl PatchRequest {
    /// Parses a request body (duplicate names refused).
    pub fn parse(body: &[u8]) -> Result<PatchRequest, ScimError> {
        PatchRequest::from_json(&parse_strict(body)?)
    }

    /// Reads a `PatchOp`: `Operations` (any case) holding one or more operations, each
    /// with an `op`, an optional `path` and a `value` where the operation needs one.
    pub fn from_json(value: &Value) -> Result<PatchRequest, ScimError> {
        let Value::Object(object) = value else {
            return Err(ScimError::invalid_syntax(format!(
                "a PatchOp is a JSON object, found {}",
                describe(value)
            )));
        };
        let operations = match find(object, "Operations", "").map_err(ScimError::from)? {
            Some((_, Value::Array(items))) if !items.is_empty() => items,
            Some((key, Value::Array(_))) => {
                return Err(ScimError::invalid_syntax(format!(
                    "/{key}: a PatchOp needs at least one operation"
                )));
            }
            Some((key, other)) => {
                return Err(ScimError::invalid_syntax(format!(
                    "/{key}: expected an array of operations, found {}",
                    describe(other)
                )));
            }
            None => {
                return Err(ScimError::invalid_syntax(
                    "a PatchOp needs \"Operations\": [{\"op\": \"replace\", \"path\": \"...\", \"value\": ...}]",
                ));
            }
        };
        let mut parsed = Vec::with_capacity(operations.len());
        for (i, operation) in operations.iter().enumerate() {
            parsed.push(PatchOperation::from_json(operation).map_err(|e| ScimError {
                detail: format!("/Operations/{i}: {}", e.detail),
                ..e
            })?);
        }
        Ok(PatchRequest { operations: parsed })
    }

    /// Applies the operations to a User. `id`, `meta`, `groups` and the Crosswalk extension's
    /// attributes are read-only: they come out as they went in.
    pub fn apply_to_user(&self, user: &User) -> Result<User, ScimError> {
        let mut document = user.to_json();
        self.apply(&mut document, &USER)?;
        let mut patched = User::from_json(&document)?;
        patched.id = user.id.clone();
        patched.meta = user.meta.clone();
        patched.groups = user.groups.clone();
        // The extension's attributes are read-only (`guarded` refused any change to them),
        // but whether the extension object is there is the client's: added (even empty) or
        // removed (when it holds nothing).
        patched.crosswalk = patched
            .crosswalk
            .map(|_| user.crosswalk.clone().unwrap_or_default());
        Ok(patched)
    }

    /// Applies the operations to a Group (`id`, `meta` and the Crosswalk extension's
    /// attributes are read-only).
    pub fn apply_to_group(&self, group: &Group) -> Result<Group, ScimError> {
        let mut document = group.to_json();
        self.apply(&mut document, &GROUP)?;
        let mut patched = Group::from_json(&document)?;
        patched.id = group.id.clone();
        patched.meta = group.meta.clone();
        // As for a User: the attributes are read-only, the object's presence the client's.
        patched.crosswalk = patched
            .crosswalk
            .map(|_| group.crosswalk.clone().unwrap_or_default());
        Ok(patched)
    }

    /// Applies the operations to a resource's JSON. On error the document is left part
    /// way: apply to a copy (as [`PatchRequest::apply_to_user`] does).
    pub fn apply(
        &self,
        resource: &mut Value,
        resource_type: &'static ResourceType,
    ) -> Result<(), ScimError> {
        let Value::Object(document) = resource else {
            return Err(ScimError::invalid_value(
                "the resource is not a JSON object",
            ));
        };
        for (i, operation) in self.operations.iter().enumerate() {
            let described = match &operation.path {
                Some(path) => format!("{} {}", operation.op.as_str(), quoted(&path.to_string())),
                None => operation.op.as_str().to_string(),
            };
            apply_operation(document, resource_type, operation).map_err(|e| ScimError {
                detail: format!("operation {} ({described}): {}", i + 1, e.detail),
                ..e
            })?;
        }
        Ok(())
    }
}

impl PatchOperation {
    fn from_json(value: &Value) -> Result<PatchOperation, ScimError> {
        let Value::Object(object) = value else {
            return Err(ScimError::invalid_syntax(format!(
                "expected an operation (a JSON object), found {}",
                describe(value)
            )));
        };
        let op = match find(object, "op", "").map_err(ScimError::from)? {
            Some((_, Value::String(op))) => match op.trim().to_ascii_lowercase().as_str() {
                "add" => PatchKind::Add,
                "remove" => PatchKind::Remove,
                "replace" => PatchKind::Replace,
                _ => {
                    return Err(ScimError::invalid_syntax(format!(
                        "/op: {} is not add, remove or replace",
                        quoted(op)
                    )));
                }
            },
            Some((key, other)) => {
                return Err(ScimError::invalid_syntax(format!(
                    "/{key}: expected add, remove or replace, found {}",
                    describe(other)
                )));
            }
            None => {
                return Err(ScimError::invalid_syntax(
                    "\"op\" is required (add, remove or replace)",
                ));
            }
        };
        let path = match find(object, "path", "").map_err(ScimError::from)? {
            None | Some((_, Value::Null)) => None,
            Some((_, Value::String(path))) if path.trim().is_empty() => None,
            Some((_, Value::String(path))) => {
                Some(PatchPath::parse(path).map_err(|e| e.invalid_path(path))?)
            }
            Some((key, other)) => {
                return Err(ScimError::invalid_path(format!(
                    "/{key}: expected a path (a string), found {}",
                    describe(other)
                )));
            }
        };
        let value = find(object, "value", "")
            .map_err(ScimError::from)?
            .map(|(_, v)| v.clone());
        if op != PatchKind::Remove && value.is_none() {
            return Err(ScimError::invalid_syntax(format!(
                "{} needs a \"value\"",
                op.as_str()
            )));
        }
        Ok(PatchOperation { op, path, value })
    }
}

fn apply_operation(
    document: &mut Map<String, Value>,
    rt: &'static ResourceType,
    operation: &PatchOperation,
) -> Result<(), ScimError> {
    let null = Value::Null;
    let value = operation.value.as_ref().unwrap_or(&null);
    match &operation.path {
        None if operation.op == PatchKind::Remove => Err(ScimError::no_target(
            "remove needs a \"path\" naming what to remove",
        )),
        None => {
            let Value::Object(members) = value else {
                return Err(ScimError::invalid_value(format!(
                    "without a \"path\", the value is an object of attributes to {}, found {}",
                    operation.op.as_str(),
                    describe(value)
                )));
            };
            for (key, member) in members {
                apply_key(document, rt, operation.op, key, member, None)?;
            }
            Ok(())
        }
        Some(path) => apply_path(document, rt, operation.op, path, operation.value.as_ref()),
    }
}

/// One member of a pathless value: its key is an attribute path (or an extension's URN).
fn apply_key(
    document: &mut Map<String, Value>,
    rt: &'static ResourceType,
    op: PatchKind,
    key: &str,
    value: &Value,
    within: Option<&'static Schema>,
) -> Result<(), ScimError> {
    let mut path = AttrPath::parse(key).map_err(|e| e.invalid_path(key))?;
    if let (Some(schema), None) = (within, &path.urn) {
        path.urn = Some(schema.id.to_string());
    }
    match rt.resolve(&path) {
        Ok(Resolved::Attribute(target)) => guarded(document, &target, |document| {
            plain(document, op, &target, Some(value))
        }),
        Ok(Resolved::Extension(schema)) => extension(document, rt, op, schema, Some(value)),
        Ok(Resolved::Schemas | Resolved::NotStored) => Ok(()),
        Err(message) => Err(ScimError::invalid_path(format!(
            "{}: {message}",
            quoted(key)
        ))),
    }
}

fn apply_path(
    document: &mut Map<String, Value>,
    rt: &'static ResourceType,
    op: PatchKind,
    path: &PatchPath,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let target = match rt.resolve(&path.attr) {
        Ok(Resolved::Attribute(target)) => target,
        Ok(Resolved::Extension(schema)) if path.filter.is_none() => {
            return extension(document, rt, op, schema, value);
        }
        Ok(Resolved::Extension(schema)) => {
            return Err(ScimError::invalid_path(format!(
                "{} is a schema, not a multi-valued attribute",
                schema.id
            )));
        }
        Ok(Resolved::Schemas | Resolved::NotStored) => return Ok(()),
        Err(message) => return Err(ScimError::invalid_path(message)),
    };
    let Some(filter) = &path.filter else {
        return guarded(document, &target, |document| {
            plain(document, op, &target, value)
        });
    };
    if target.sub.is_some() || target.attribute.kind != AttributeType::Complex {
        return Err(ScimError::invalid_path(format!(
            "{target} has no sub-attributes to filter on"
        )));
    }
    let element_filter = ElementFilter::compile(filter, target.attribute)
        .map_err(|e| e.invalid_path(&path.to_string()))?;
    let sub = match &path.sub {
        None => None,
        Some((name, _)) => match target.attribute.sub(name) {
            Some(sub) => Some(sub),
            None => {
                let resolved = rt.resolve(&AttrPath {
                    sub: Some(name.clone()),
                    ..path.attr.clone()
                });
                if matches!(resolved, Ok(Resolved::NotStored)) {
                    return Ok(());
                }
                return Err(ScimError::invalid_path(match resolved {
                    Err(message) => message,
                    Ok(_) => format!("{} has no sub-attribute {name:?}", target.attribute.name),
                }));
            }
        },
    };
    let target = Target { sub, ..target };
    guarded(document, &target, |document| {
        filtered(document, op, &target, filter, &element_filter, value)
    })
}

/// A whole extension object as the target (`path: "urn:...:User"`).
fn extension(
    document: &mut Map<String, Value>,
    rt: &'static ResourceType,
    op: PatchKind,
    schema: &'static Schema,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    match (op, value) {
        (PatchKind::Remove, _) | (_, None | Some(Value::Null)) => {
            let present = get_in(document, schema.id).is_some_and(is_assigned);
            if present && schema.attributes.iter().any(Attribute::is_read_only) {
                return Err(ScimError::mutability(format!(
                    "{} holds read-only attributes",
                    schema.id
                )));
            }
            remove_key(document, schema.id);
            Ok(())
        }
        (_, Some(Value::Object(members))) => {
            // The object is there from now on, even if nothing in it is written.
            if get_in(document, schema.id).is_none() {
                document.insert(schema.id.to_string(), Value::Object(Map::new()));
            }
            // A client that writes the extension as an object of its own may put the
            // extension's `schemas` in it (scim2-models does): like the resource's own
            // `schemas`, it is computed from the content, so it is not a change.
            for (key, member) in members {
                if key.eq_ignore_ascii_case("schemas") {
                    continue;
                }
                apply_key(document, rt, op, key, member, Some(schema))?;
            }
            Ok(())
        }
        (_, Some(other)) => Err(ScimError::invalid_value(format!(
            "{} takes an object of its attributes, found {}",
            schema.id,
            describe(other)
        ))),
    }
}

// ---------------------------------------------------------------------------------------
// Mutability
// ---------------------------------------------------------------------------------------

/// Runs `change`, then refuses it if it changed a read-only attribute, changed an immutable
/// sub-attribute's existing values, or left a required attribute unassigned.
fn guarded(
    document: &mut Map<String, Value>,
    target: &Target,
    change: impl FnOnce(&mut Map<String, Value>) -> Result<(), ScimError>,
) -> Result<(), ScimError> {
    let attribute = target.attribute;
    let read_only = attribute.is_read_only() || target.sub.is_some_and(Attribute::is_read_only);
    let immutable = attribute.mutability == Mutability::Immutable
        || target
            .sub
            .is_some_and(|s| s.mutability == Mutability::Immutable);
    if !(read_only || immutable || attribute.required) {
        return change(document);
    }
    let before = snapshot(document, target);
    change(document)?;
    let after = snapshot(document, target);
    let same = normalised(&before) == normalised(&after);
    if read_only && !same {
        return Err(ScimError::mutability(format!("{target} is read-only")));
    }
    if immutable && !same && sub_values(&before, target).next().is_some() {
        return Err(ScimError::mutability(format!(
            "{target} is immutable: it cannot change once set"
        )));
    }
    if attribute.required && target.sub.is_none() && is_assigned(&before) && !is_assigned(&after) {
        return Err(ScimError::mutability(format!(
            "{target} is required and cannot be removed"
        )));
    }
    Ok(())
}

fn snapshot(document: &Map<String, Value>, target: &Target) -> Value {
    container_of(document, target)
        .and_then(|c| get_in(c, target.attribute.name))
        .cloned()
        .unwrap_or(Value::Null)
}

/// Unassigned forms (null, "", [], {}) are one.
fn normalised(value: &Value) -> Option<&Value> {
    is_assigned(value).then_some(value)
}

fn sub_values<'v>(value: &'v Value, target: &Target) -> impl Iterator<Item = &'v Value> {
    let sub = target.sub;
    elements(value).filter_map(move |e| match sub {
        Some(sub) => e
            .as_object()
            .and_then(|o| get_in(o, sub.name))
            .filter(|v| is_assigned(v)),
        None => Some(e),
    })
}

fn is_assigned(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_assigned),
        Value::Object(members) => members.values().any(is_assigned),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

// ---------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------

fn container_of<'d>(
    document: &'d Map<String, Value>,
    target: &Target,
) -> Option<&'d Map<String, Value>> {
    match target.extension {
        None => Some(document),
        Some(schema) => get_in(document, schema.id).and_then(Value::as_object),
    }
}

/// The object holding a target's attribute, created (for an extension) when missing.
fn container_mut<'d>(
    document: &'d mut Map<String, Value>,
    target: &Target,
) -> &'d mut Map<String, Value> {
    let Some(schema) = target.extension else {
        return document;
    };
    let key = existing_key(document, schema.id).unwrap_or_else(|| schema.id.to_string());
    let slot = document
        .entry(key)
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(map) => map,
        _ => unreachable!("just made an object"),
    }
}

fn existing_key(object: &Map<String, Value>, name: &str) -> Option<String> {
    if object.contains_key(name) {
        return Some(name.to_string());
    }
    object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
}

/// Takes an attribute out (whatever the spelling of its key) and gives its value.
fn take(object: &mut Map<String, Value>, name: &str) -> Value {
    existing_key(object, name)
        .and_then(|k| object.remove(&k))
        .unwrap_or(Value::Null)
}

fn remove_key(object: &mut Map<String, Value>, name: &str) {
    take(object, name);
}

/// Stores a value under its canonical name; an unassigned value removes the attribute.
fn put(object: &mut Map<String, Value>, name: &str, value: Value) {
    remove_key(object, name);
    if is_assigned(&value) {
        object.insert(name.to_string(), value);
    }
}

fn elements(value: &Value) -> impl Iterator<Item = &Value> {
    let (array, single) = match value {
        Value::Array(items) => (Some(items.iter()), None),
        Value::Null => (None, None),
        other => (None, Some(other)),
    };
    array.into_iter().flatten().chain(single)
}

/// Converts a value for one (non-plural) value of `attribute`: booleans from Entra's
/// strings, complex values with their sub-attributes converted, unknown and read-only
/// sub-attributes dropped (a client echoing `display` is not changing it), and a bare
/// string taken as the `value` of a complex attribute that has one.
fn coerce(attribute: &'static Attribute, value: &Value) -> Result<Value, ScimError> {
    let wrong = || {
        ScimError::invalid_value(format!(
            "{} is a {}, found {}",
            attribute.name,
            if attribute.kind == AttributeType::Complex {
                "complex value (an object)"
            } else {
                attribute.kind.as_str()
            },
            describe(value)
        ))
    };
    Ok(match (attribute.kind, value) {
        (_, Value::Null) => Value::Null,
        (AttributeType::Boolean, v) => Value::Bool(bool_of(v).ok_or_else(wrong)?),
        (
            AttributeType::String
            | AttributeType::Reference
            | AttributeType::DateTime
            | AttributeType::Binary,
            Value::String(_),
        ) => value.clone(),
        (AttributeType::Integer | AttributeType::Decimal, Value::Number(_)) => value.clone(),
        (AttributeType::Complex, Value::Object(members)) => {
            let mut out = Map::new();
            for (key, member) in members {
                let Some(sub) = attribute.sub(key) else {
                    continue;
                };
                if sub.is_read_only() && !attribute.is_read_only() {
                    continue;
                }
                let converted = coerce(sub, member)?;
                if !converted.is_null() {
                    out.insert(sub.name.to_string(), converted);
                }
            }
            Value::Object(out)
        }
        (AttributeType::Complex, Value::String(_)) if attribute.sub("value").is_some() => {
            Value::Object(Map::from_iter([("value".to_string(), value.clone())]))
        }
        _ => return Err(wrong()),
    })
}

/// The values given for a multi-valued attribute: an array, or one value alone.
fn coerce_many(attribute: &'static Attribute, value: &Value) -> Result<Vec<Value>, ScimError> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let converted = coerce(attribute, item)?;
        if is_assigned(&converted) {
            out.push(converted);
        }
    }
    Ok(out)
}

/// Whether `incoming` names the same value as `existing`: the same `value` (by the
/// sub-attribute's case rule) and, when `incoming` gives a `type`, the same type.
fn same_element(attribute: &'static Attribute, existing: &Value, incoming: &Value) -> bool {
    let equal_text =
        |rule: Option<&'static Attribute>, a: Option<&Value>, b: Option<&Value>| match (a, b) {
            (Some(Value::String(a)), Some(Value::String(b))) => {
                if rule.is_none_or(|r| r.case_exact) {
                    a == b
                } else {
                    fold_case(a) == fold_case(b)
                }
            }
            (a, b) => a == b,
        };
    match (existing, incoming) {
        (Value::Object(e), Value::Object(i)) if attribute.sub("value").is_some() => {
            equal_text(
                attribute.sub("value"),
                get_in(e, "value"),
                get_in(i, "value"),
            ) && (get_in(i, "type").is_none()
                || equal_text(attribute.sub("type"), get_in(e, "type"), get_in(i, "type")))
        }
        (e, i) => equal_text(Some(attribute), Some(e), Some(i)),
    }
}

/// At most one value is primary (RFC 7643 §2.4): `keep` (the value just set primary) wins,
/// else the first.
fn one_primary(attribute: &'static Attribute, items: &mut [Value], keep: Option<usize>) {
    if attribute.sub("primary").is_none() {
        return;
    }
    let Some(winner) = keep
        .filter(|&k| items.get(k).is_some_and(is_primary))
        .or_else(|| items.iter().position(is_primary))
    else {
        return;
    };
    for (i, item) in items.iter_mut().enumerate() {
        if i != winner
            && is_primary(item)
            && let Value::Object(members) = item
        {
            members.insert("primary".to_string(), Value::Bool(false));
        }
    }
}

fn is_primary(value: &Value) -> bool {
    value
        .as_object()
        .and_then(|o| get_in(o, "primary"))
        .and_then(bool_of)
        == Some(true)
}

fn last_primary(items: &[Value], from: usize) -> Option<usize> {
    (from..items.len()).rev().find(|&i| is_primary(&items[i]))
}

fn take_array(container: &mut Map<String, Value>, name: &str) -> Vec<Value> {
    match take(container, name) {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn put_array(container: &mut Map<String, Value>, name: &str, items: Vec<Value>) {
    let items: Vec<Value> = items.into_iter().filter(is_assigned).collect();
    put(container, name, Value::Array(items));
}

/// Sets (or with `None`/`null`, removes) `sub` in a complex value.
fn set_sub(
    element: &mut Value,
    sub: &'static Attribute,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let converted = match value {
        Some(value) => coerce(sub, value)?,
        None => Value::Null,
    };
    if !element.is_object() {
        *element = Value::Object(Map::new());
    }
    if let Value::Object(members) = element {
        put(members, sub.name, converted);
    }
    Ok(())
}

/// Merges a complex value's sub-attributes into `element` (`null` ones removed).
fn merge(element: &mut Value, incoming: Value) {
    let Value::Object(incoming) = incoming else {
        return;
    };
    if !element.is_object() {
        *element = Value::Object(Map::new());
    }
    if let Value::Object(members) = element {
        for (key, value) in incoming {
            put(members, &key, value);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The operations
// ---------------------------------------------------------------------------------------

/// An operation on a path without a value filter.
fn plain(
    document: &mut Map<String, Value>,
    op: PatchKind,
    target: &Target,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let attribute = target.attribute;
    let container = container_mut(document, target);
    let name = attribute.name;
    if let Some(sub) = target.sub {
        let value = if op == PatchKind::Remove { None } else { value };
        if attribute.multi_valued {
            let mut items = take_array(container, name);
            if items.is_empty() && value.is_some_and(is_assigned) {
                items.push(Value::Object(Map::new()));
            }
            for item in &mut items {
                set_sub(item, sub, value)?;
            }
            one_primary(attribute, &mut items, None);
            put_array(container, name, items);
        } else {
            let mut element = take(container, name);
            set_sub(&mut element, sub, value)?;
            put(container, name, element);
        }
        return Ok(());
    }
    match op {
        PatchKind::Remove => {
            match value.filter(|v| is_assigned(v)) {
                // Only the values listed (Entra's member removal).
                Some(listed) if attribute.multi_valued => {
                    let listed = coerce_many(attribute, listed)?;
                    let mut items = take_array(container, name);
                    items.retain(|item| !listed.iter().any(|l| same_element(attribute, item, l)));
                    put_array(container, name, items);
                }
                _ => remove_key(container, name),
            }
        }
        PatchKind::Add | PatchKind::Replace if attribute.multi_valued => {
            let incoming = coerce_many(attribute, value.unwrap_or(&Value::Null))?;
            let mut items = take_array(container, name);
            if op == PatchKind::Replace {
                items.clear();
            }
            let from = items.len();
            for item in incoming {
                if op == PatchKind::Replace
                    || !items
                        .iter()
                        .any(|existing| same_element(attribute, existing, &item))
                {
                    items.push(item);
                }
            }
            let keep = last_primary(&items, from);
            one_primary(attribute, &mut items, keep);
            put_array(container, name, items);
        }
        PatchKind::Add | PatchKind::Replace if attribute.kind == AttributeType::Complex => {
            // A complex value: the sub-attributes given replace theirs; the others stay.
            let incoming = coerce(attribute, value.unwrap_or(&Value::Null))?;
            let mut element = take(container, name);
            if incoming.is_null() {
                element = Value::Null;
            } else {
                merge(&mut element, incoming);
            }
            put(container, name, element);
        }
        PatchKind::Add | PatchKind::Replace => {
            let converted = coerce(attribute, value.unwrap_or(&Value::Null))?;
            put(container, name, converted);
        }
    }
    Ok(())
}

/// An operation through a value filter (`emails[type eq "work"]`, optionally `.value`).
fn filtered(
    document: &mut Map<String, Value>,
    op: PatchKind,
    target: &Target,
    filter: &Filter,
    element_filter: &ElementFilter,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let attribute = target.attribute;
    let name = attribute.name;
    let container = container_mut(document, target);
    let mut items = take_array(container, name);
    let matched: Vec<usize> = (0..items.len())
        .filter(|&i| element_filter.matches(&items[i]))
        .collect();
    match op {
        PatchKind::Remove => match target.sub {
            Some(sub) => {
                for &i in &matched {
                    set_sub(&mut items[i], sub, None)?;
                }
            }
            None => {
                let mut i = 0;
                items.retain(|_| {
                    let keep = !matched.contains(&i);
                    i += 1;
                    keep
                });
            }
        },
        PatchKind::Add | PatchKind::Replace => {
            let value = value.unwrap_or(&Value::Null);
            let mut touched = matched.clone();
            if matched.is_empty() {
                // Entra adds a work address as `add emails[type eq "work"].value`: make the
                // value the filter describes.
                let Some(template) = template_of(filter, attribute) else {
                    return Err(ScimError::no_target(format!(
                        "no value of {name} matches [{filter}], and a value cannot be made from it \
                         (only from eq tests joined by and)"
                    )));
                };
                items.push(template);
                touched.push(items.len() - 1);
            }
            for &i in &touched {
                match target.sub {
                    Some(sub) => set_sub(&mut items[i], sub, Some(value))?,
                    None => {
                        let incoming = coerce(attribute, value)?;
                        if op == PatchKind::Replace && !matched.is_empty() {
                            items[i] = incoming;
                        } else {
                            merge(&mut items[i], incoming);
                        }
                    }
                }
            }
            let keep = touched
                .iter()
                .rev()
                .copied()
                .find(|&i| is_primary(&items[i]));
            one_primary(attribute, &mut items, keep);
        }
    }
    put_array(container, name, items);
    Ok(())
}

/// The value a filter of `eq` tests joined by `and` describes (`type eq "work"` gives
/// `{"type": "work"}`); `None` for any other filter.
fn template_of(filter: &Filter, attribute: &'static Attribute) -> Option<Value> {
    fn collect(
        filter: &Filter,
        attribute: &'static Attribute,
        out: &mut Map<String, Value>,
    ) -> Option<()> {
        match filter {
            Filter::Attr {
                path,
                test: Test::Compare(CompareOp::Eq, value),
            } if path.urn.is_none() && path.sub.is_none() => {
                let sub = attribute.sub(&path.name)?;
                let json = match value {
                    CompValue::Null => return None,
                    CompValue::Bool(b) => Value::Bool(*b),
                    CompValue::Number(n) => Value::Number(n.clone()),
                    CompValue::String(s) => Value::String(s.clone()),
                };
                out.insert(sub.name.to_string(), coerce(sub, &json).ok()?);
                Some(())
            }
            Filter::And(a, b) => {
                collect(a, attribute, out)?;
                collect(b, attribute, out)
            }
            _ => None,
        }
    }
    let mut out = Map::new();
    collect(filter, attribute, &mut out)?;
    Some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(operations: Value) -> PatchRequest {
        PatchRequest::from_json(
            &json!({"schemas": [crate::message::PATCH_OP_SCHEMA], "Operations": operations}),
        )
        .unwrap()
    }

    fn user() -> User {
        User::from_json(&json!({
            "id": "u1",
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "b@example.com", "type": "work", "primary": true}],
            "active": true,
            "meta": {"resourceType": "User"}
        }))
        .unwrap()
    }

    #[test]
    fn op_in_any_case_and_booleans_as_strings() {
        let patched = patch(json!([{"op": "Replace", "path": "active", "value": "False"}]))
            .apply_to_user(&user())
            .unwrap();
        assert_eq!(patched.active, Some(false));
    }

    #[test]
    fn read_only_attributes_refuse_changes_but_not_echoes() {
        let error = patch(json!([{"op": "replace", "path": "id", "value": "other"}]))
            .apply_to_user(&user())
            .unwrap_err();
        assert_eq!(error.scim_type, Some(crate::error::ScimType::Mutability));
        patch(json!([{"op": "replace", "value": {"id": "u1", "displayName": "Babs"}}]))
            .apply_to_user(&user())
            .unwrap();
        let error = patch(json!([{"op": "add", "path": "groups", "value": [{"value": "g1"}]}]))
            .apply_to_user(&user())
            .unwrap_err();
        assert_eq!(error.scim_type, Some(crate::error::ScimType::Mutability));
        let error = patch(json!([{"op": "remove", "path": "userName"}]))
            .apply_to_user(&user())
            .unwrap_err();
        assert!(
            error.detail.contains("userName is required"),
            "{}",
            error.detail
        );
    }
}
