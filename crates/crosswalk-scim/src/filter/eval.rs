//! Checking a filter against a resource type ([`Filter::compile`]) and evaluating it
//! against a resource's JSON ([`CompiledFilter::matches`]).
//!
//! Compiling resolves every attribute path once, and refuses what could never be answered
//! right: an attribute Crosswalk does not store, `gt` on a boolean, a string compared with
//! a number, a date that is not one. Evaluation then follows RFC 7644 §3.4.2.2: a
//! multi-valued attribute matches if any value does; a complex attribute compared without a
//! sub-attribute is compared by its `value`; strings ignore case unless the attribute is
//! `caseExact`; `dateTime`s compare as instants. Two choices the RFC leaves open: an
//! unassigned attribute matches `ne` (it is not equal) and `eq null`; and a value path
//! matches when one value satisfies the whole bracket (and the test after it, if any).

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::parse::FilterError;
use super::{AttrPath, CompValue, CompareOp, Filter, Span, Test};
use crate::datetime::{self, Instant};
use crate::error::ScimError;
use crate::json::bool_of;
use crate::schema::{Attribute, AttributeType, Resolved, ResourceType, Target};

/// A filter checked against a resource type, ready to test resources.
#[derive(Debug, Clone)]
pub struct CompiledFilter {
    filter: Filter,
    resource_type: &'static ResourceType,
    node: Node,
}

#[derive(Debug, Clone)]
enum Node {
    /// Values found at a path of the resource.
    Attr {
        target: Target,
        test: Check,
    },
    /// Some element of a multi-valued (or complex) attribute satisfies `inner` (evaluated
    /// on the element), and `sub` if there is one.
    ValuePath {
        target: Target,
        inner: Box<Node>,
        sub: Option<(&'static Attribute, Check)>,
    },
    /// Inside a value path: a sub-attribute of the element.
    Element {
        attribute: &'static Attribute,
        test: Check,
    },
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
}

#[derive(Debug, Clone)]
enum Check {
    Present,
    /// `eq null`: unassigned. `ne null` compiles to `Present`.
    Absent,
    Compare {
        op: CompareOp,
        operand: Operand,
    },
}

/// A comparison value prepared for its attribute's type.
#[derive(Debug, Clone)]
enum Operand {
    Bool(bool),
    Number(f64),
    /// `folded` is the case-folded text when the attribute ignores case.
    Text {
        text: String,
        folded: Option<String>,
    },
    Instant(Instant),
}

impl Filter {
    /// Checks every path and comparison against `resource_type`'s schema.
    pub fn compile(
        &self,
        resource_type: &'static ResourceType,
    ) -> Result<CompiledFilter, FilterError> {
        let node = compile(self, resource_type)?;
        Ok(CompiledFilter {
            filter: self.clone(),
            resource_type,
            node,
        })
    }
}

impl CompiledFilter {
    /// Parses and compiles a filter from a request; errors are 400 `invalidFilter`s that
    /// quote the filter and say at which column it went wrong.
    pub fn parse(
        text: &str,
        resource_type: &'static ResourceType,
    ) -> Result<CompiledFilter, ScimError> {
        Filter::parse(text)
            .and_then(|filter| filter.compile(resource_type))
            .map_err(|error| error.invalid_filter(text))
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    pub fn resource_type(&self) -> &'static ResourceType {
        self.resource_type
    }

    /// Whether the resource (its JSON, as the typed resources serialise) matches.
    pub fn matches(&self, resource: &Value) -> bool {
        eval(&self.node, resource)
    }
}

/// The filter of a value path (`emails[type eq "work"]`), tested on one element of the
/// attribute: what PATCH uses to pick the values it changes.
#[derive(Debug, Clone)]
pub(crate) struct ElementFilter {
    node: Node,
}

impl ElementFilter {
    pub(crate) fn compile(
        filter: &Filter,
        parent: &'static Attribute,
    ) -> Result<ElementFilter, FilterError> {
        Ok(ElementFilter {
            node: compile_element(filter, parent)?,
        })
    }

    pub(crate) fn matches(&self, element: &Value) -> bool {
        eval(&self.node, element)
    }
}

fn error(span: Span, message: impl Into<String>) -> FilterError {
    FilterError {
        column: span.start as usize + 1,
        message: message.into(),
    }
}

fn compile(filter: &Filter, rt: &'static ResourceType) -> Result<Node, FilterError> {
    Ok(match filter {
        Filter::Attr { path, test } => {
            let target = resolve(rt, path)?;
            let leaf = comparable(&target, path, test)?;
            Node::Attr {
                target,
                test: check(leaf, path.span, test)?,
            }
        }
        Filter::ValuePath { path, filter, sub } => {
            let target = resolve(rt, path)?;
            if target.sub.is_some() || target.attribute.kind != AttributeType::Complex {
                return Err(error(
                    path.span,
                    format!("{target} has no sub-attributes to filter on in [...]"),
                ));
            }
            let inner = compile_element(filter, target.attribute)?;
            let sub = match sub {
                Some(sub_test) => {
                    let Some(attribute) = target.attribute.sub(&sub_test.name) else {
                        return Err(error(
                            sub_test.span,
                            no_sub(target.attribute, &sub_test.name),
                        ));
                    };
                    Some((attribute, check(attribute, sub_test.span, &sub_test.test)?))
                }
                None => None,
            };
            Node::ValuePath {
                target,
                inner: Box::new(inner),
                sub,
            }
        }
        Filter::And(a, b) => Node::And(Box::new(compile(a, rt)?), Box::new(compile(b, rt)?)),
        Filter::Or(a, b) => Node::Or(Box::new(compile(a, rt)?), Box::new(compile(b, rt)?)),
        Filter::Not(inner) => Node::Not(Box::new(compile(inner, rt)?)),
    })
}

fn no_sub(parent: &Attribute, name: &str) -> String {
    let names: Vec<&str> = parent.sub_attributes.iter().map(|a| a.name).collect();
    format!(
        "{} has no sub-attribute {name:?}; it has {}",
        parent.name,
        names.join(", ")
    )
}

/// The filter inside `parent[...]`: its paths name `parent`'s sub-attributes.
fn compile_element(filter: &Filter, parent: &'static Attribute) -> Result<Node, FilterError> {
    Ok(match filter {
        Filter::Attr { path, test } => {
            if path.urn.is_some() || path.sub.is_some() {
                return Err(error(
                    path.span,
                    format!(
                        "inside {}[...], name a sub-attribute of {} alone",
                        parent.name, parent.name
                    ),
                ));
            }
            let Some(attribute) = parent.sub(&path.name) else {
                return Err(error(path.span, no_sub(parent, &path.name)));
            };
            Node::Element {
                attribute,
                test: check(attribute, path.span, test)?,
            }
        }
        // The parser refuses a value path inside another.
        Filter::ValuePath { path, .. } => {
            return Err(error(
                path.span,
                "a value filter cannot hold another \"[...]\"",
            ));
        }
        Filter::And(a, b) => Node::And(
            Box::new(compile_element(a, parent)?),
            Box::new(compile_element(b, parent)?),
        ),
        Filter::Or(a, b) => Node::Or(
            Box::new(compile_element(a, parent)?),
            Box::new(compile_element(b, parent)?),
        ),
        Filter::Not(inner) => Node::Not(Box::new(compile_element(inner, parent)?)),
    })
}

fn resolve(rt: &'static ResourceType, path: &AttrPath) -> Result<Target, FilterError> {
    match rt.resolve(path) {
        Ok(Resolved::Attribute(target)) => Ok(target),
        Ok(Resolved::NotStored) => Err(error(
            path.span,
            format!(
                "Crosswalk does not store {path}, so no {} could match; filter on an attribute it stores \
                 (see /Schemas), such as {}",
                rt.id,
                if rt.id == "Group" {
                    "displayName, externalId or id"
                } else {
                    "userName, externalId, emails or id"
                }
            ),
        )),
        Ok(Resolved::Extension(schema)) => Err(error(
            path.span,
            format!(
                "{} is a whole schema; filter on one of its attributes",
                schema.id
            ),
        )),
        Ok(Resolved::Schemas) => Err(error(path.span, "filtering on schemas is not supported")),
        Err(message) => Err(error(path.span, message)),
    }
}

/// The attribute a test compares: the path's leaf, or a complex attribute's `value`.
fn comparable(
    target: &Target,
    path: &AttrPath,
    test: &Test,
) -> Result<&'static Attribute, FilterError> {
    let leaf = target.leaf();
    if leaf.kind != AttributeType::Complex || matches!(test, Test::Present) {
        return Ok(leaf);
    }
    leaf.sub("value").ok_or_else(|| {
        let first = leaf.sub_attributes.first().map_or("", |a| a.name);
        error(
            path.span,
            format!(
                "{} is complex: compare one of its sub-attributes, such as {}.{first}",
                leaf.name, leaf.name
            ),
        )
    })
}

fn check(attribute: &'static Attribute, span: Span, test: &Test) -> Result<Check, FilterError> {
    let Test::Compare(op, value) = test else {
        return Ok(Check::Present);
    };
    let op = *op;
    let kind = attribute.kind;
    let name = attribute.name;
    if let CompValue::Null = value {
        return match op {
            CompareOp::Eq => Ok(Check::Absent),
            CompareOp::Ne => Ok(Check::Present),
            _ => Err(error(
                span,
                format!("null can only be compared with eq or ne (to {name})"),
            )),
        };
    }
    if op.is_ordering() && matches!(kind, AttributeType::Boolean | AttributeType::Binary) {
        return Err(error(
            span,
            format!(
                "{name} is a {}; it supports eq, ne and pr, not {}",
                kind.as_str(),
                op.as_str()
            ),
        ));
    }
    if op.is_substring()
        && !matches!(
            kind,
            AttributeType::String | AttributeType::Reference | AttributeType::Binary
        )
    {
        return Err(error(
            span,
            format!(
                "{} works on strings; {name} is a {}",
                op.as_str(),
                kind.as_str()
            ),
        ));
    }
    let mismatch = || {
        error(
            span,
            format!(
                "{name} is a {}; compare it with {}",
                kind.as_str(),
                expected_for(kind)
            ),
        )
    };
    let operand = match kind {
        AttributeType::Boolean => match value {
            CompValue::Bool(b) => Operand::Bool(*b),
            // Entra sends booleans as strings elsewhere; accept them here too.
            CompValue::String(s) => {
                Operand::Bool(bool_of(&Value::String(s.clone())).ok_or_else(mismatch)?)
            }
            _ => return Err(mismatch()),
        },
        AttributeType::Integer | AttributeType::Decimal => match value {
            CompValue::Number(n) => Operand::Number(n.as_f64().ok_or_else(mismatch)?),
            _ => return Err(mismatch()),
        },
        AttributeType::DateTime => match value {
            CompValue::String(s) => Operand::Instant(datetime::parse(s).ok_or_else(|| {
                error(
                    span,
                    format!(
                        "{s:?} is not a dateTime such as \"2024-01-31T12:00:00Z\" (for {name})"
                    ),
                )
            })?),
            _ => return Err(mismatch()),
        },
        AttributeType::String
        | AttributeType::Reference
        | AttributeType::Binary
        | AttributeType::Complex => match value {
            CompValue::String(s) => Operand::Text {
                folded: (!attribute.case_exact).then(|| fold_case(s).into_owned()),
                text: s.clone(),
            },
            _ => return Err(mismatch()),
        },
    };
    Ok(Check::Compare { op, operand })
}

fn expected_for(kind: AttributeType) -> &'static str {
    match kind {
        AttributeType::Boolean => "true or false",
        AttributeType::Integer | AttributeType::Decimal => "a number",
        AttributeType::DateTime => "a date in quotes, such as \"2024-01-31T12:00:00Z\"",
        _ => "a string in double quotes",
    }
}

// ---------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------

/// A member of an object by name: the exact spelling first, then any case.
pub(crate) fn get<'v>(object: &'v Value, name: &str) -> Option<&'v Value> {
    let object = object.as_object()?;
    get_in(object, name)
}

pub(crate) fn get_in<'v>(object: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The object holding a target's attribute: the resource, or its extension object.
pub(crate) fn container<'v>(resource: &'v Value, target: &Target) -> Option<&'v Value> {
    match target.extension {
        None => Some(resource),
        Some(schema) => get(resource, schema.id),
    }
}

/// The elements of an attribute's value: each array item, or the value itself.
pub(crate) fn elements(value: &Value) -> impl Iterator<Item = &Value> {
    let (array, single) = match value {
        Value::Array(items) => (Some(items.iter()), None),
        Value::Null => (None, None),
        other => (None, Some(other)),
    };
    array
        .into_iter()
        .flatten()
        .chain(single)
        .filter(|v| !v.is_null())
}

/// The values at a target: the attribute's elements, or each element's sub-attribute.
pub(crate) fn values_at<'v>(
    resource: &'v Value,
    target: &Target,
    sub: Option<&'static Attribute>,
) -> Vec<&'v Value> {
    let Some(value) = container(resource, target).and_then(|c| get(c, target.attribute.name))
    else {
        return Vec::new();
    };
    match sub {
        None => elements(value).collect(),
        Some(sub) => elements(value)
            .filter_map(|e| get(e, sub.name))
            .flat_map(elements)
            .collect(),
    }
}

fn eval(node: &Node, resource: &Value) -> bool {
    match node {
        Node::Attr { target, test } => test_values(test, &values_at(resource, target, target.sub)),
        Node::ValuePath { target, inner, sub } => {
            let Some(value) =
                container(resource, target).and_then(|c| get(c, target.attribute.name))
            else {
                return false;
            };
            elements(value).any(|element| {
                eval(inner, element)
                    && sub.as_ref().is_none_or(|(attribute, test)| {
                        let values: Vec<&Value> = get(element, attribute.name)
                            .into_iter()
                            .flat_map(elements)
                            .collect();
                        test_values(test, &values)
                    })
            })
        }
        Node::Element { attribute, test } => {
            let values: Vec<&Value> = get(resource, attribute.name)
                .into_iter()
                .flat_map(elements)
                .collect();
            test_values(test, &values)
        }
        Node::And(a, b) => eval(a, resource) && eval(b, resource),
        Node::Or(a, b) => eval(a, resource) || eval(b, resource),
        Node::Not(inner) => !eval(inner, resource),
    }
}

fn test_values(check: &Check, values: &[&Value]) -> bool {
    match check {
        Check::Present => values.iter().any(|v| is_present(v)),
        Check::Absent => !values.iter().any(|v| is_present(v)),
        Check::Compare {
            op: CompareOp::Ne,
            operand,
        } => values.is_empty() || values.iter().any(|v| compare(v, CompareOp::Ne, operand)),
        Check::Compare { op, operand } => values.iter().any(|v| compare(v, *op, operand)),
    }
}

/// RFC 7644: "non-empty value, or a non-empty node for complex attributes".
fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(members) => members.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare(actual: &Value, op: CompareOp, operand: &Operand) -> bool {
    // A complex value is compared by its `value` sub-attribute.
    let actual = match actual {
        Value::Object(_) => match get(actual, "value") {
            Some(value) => value,
            None => return false,
        },
        other => other,
    };
    let ordering = match operand {
        Operand::Bool(expected) => match bool_of(actual) {
            Some(b) => b.cmp(expected),
            None => return false,
        },
        Operand::Number(expected) => match actual.as_f64() {
            Some(n) => match n.partial_cmp(expected) {
                Some(ordering) => ordering,
                None => return false,
            },
            None => return false,
        },
        Operand::Instant(expected) => match actual.as_str().and_then(datetime::parse) {
            Some(instant) => instant.cmp(expected),
            None => return false,
        },
        Operand::Text { text, folded } => {
            let Some(actual) = actual.as_str() else {
                return false;
            };
            let (actual, expected): (Cow<'_, str>, &str) = match folded {
                Some(folded) => (fold_case(actual), folded),
                None => (Cow::Borrowed(actual), text),
            };
            match op {
                CompareOp::Co => return actual.contains(expected),
                CompareOp::Sw => return actual.starts_with(expected),
                CompareOp::Ew => return actual.ends_with(expected),
                _ => actual.as_ref().cmp(expected),
            }
        }
    };
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        // Substring tests on non-strings are refused when compiling.
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// Unicode default case folding, the rule for attributes that are not `caseExact`. ASCII
/// text (nearly every userName and address) folds by lowering its letters, which is what
/// full folding gives for it, without the general algorithm's allocation and tables.
pub fn fold_case(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        }
    } else {
        Cow::Owned(caseless::default_case_fold_str(text))
    }
}

/// Orders two values of an attribute by its type and case rule, for `sortBy`. Values that
/// cannot be compared (a string against a number) fall back to their JSON text.
pub fn compare_values(attribute: &Attribute, a: &Value, b: &Value) -> Ordering {
    let a = get(a, "value").filter(|_| a.is_object()).unwrap_or(a);
    let b = get(b, "value").filter(|_| b.is_object()).unwrap_or(b);
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            if attribute.kind == AttributeType::DateTime
                && let (Some(x), Some(y)) = (datetime::parse(x), datetime::parse(y))
            {
                return x.cmp(&y);
            }
            if attribute.case_exact {
                x.cmp(y)
            } else {
                fold_case(x).cmp(&fold_case(y)).then_with(|| x.cmp(y))
            }
        }
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{GROUP, USER};
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "bjensen",
            "userName": "BJensen@Example.com",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "displayName": "Babs Jensen",
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "active": true,
            "meta": {"resourceType": "User", "lastModified": "2011-05-13T04:42:34Z"},
            "urn:crosswalk:params:scim:schemas:extension:2.0:User": {"emailVerified": false}
        })
    }

    fn matches(text: &str) -> bool {
        CompiledFilter::parse(text, &USER)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .matches(&user())
    }

    #[test]
    fn case_rules_come_from_the_schema() {
        assert!(matches("userName eq \"bjensen@example.com\""));
        assert!(matches("USERNAME EQ \"BJENSEN@EXAMPLE.COM\""));
        assert!(!matches("id eq \"2819C223-7F76-453A-919D-413861904646\""));
        assert!(matches("id eq \"2819c223-7f76-453a-919d-413861904646\""));
        assert!(!matches("externalId eq \"BJENSEN\""));
        assert!(matches("name.familyName sw \"jen\""));
    }

    #[test]
    fn multi_valued_value_paths_and_entra_form() {
        assert!(matches(
            "emails[type eq \"work\"].value eq \"BJensen@example.com\""
        ));
        assert!(!matches(
            "emails[type eq \"home\"].value eq \"bjensen@example.com\""
        ));
        assert!(matches(
            "emails[type eq \"work\" and value co \"example.com\"]"
        ));
        assert!(matches("emails co \"jensen.org\""));
        assert!(matches("emails.value ew \".org\""));
        assert!(matches("emails[not (type eq \"work\")]"));
        assert!(!matches("emails[type eq \"other\"]"));
        assert!(matches(
            "emails.primary eq true and emails.type eq \"home\""
        ));
    }

    #[test]
    fn logic_presence_and_null() {
        assert!(matches("userName pr and externalId pr"));
        assert!(matches("name pr"));
        assert!(matches("displayName ne null"));
        assert!(matches("name.formatted eq null"));
        assert!(matches("name.formatted ne \"x\""));
        assert!(!matches("userName ne \"bjensen@example.com\""));
        assert!(matches("active eq \"True\""));
        assert!(matches(
            "urn:crosswalk:params:scim:schemas:extension:2.0:User:emailVerified eq false"
        ));
        assert!(matches(
            "userName eq \"nobody\" or displayName eq \"babs jensen\""
        ));
        assert!(!matches(
            "userName eq \"nobody\" or displayName eq \"babs\" and active eq true"
        ));
    }

    #[test]
    fn dates_compare_as_instants() {
        assert!(matches(
            "meta.lastModified gt \"2011-05-13T06:00:00+02:00\""
        ));
        assert!(matches(
            "meta.lastModified eq \"2011-05-13T06:42:34+02:00\""
        ));
        assert!(!matches("meta.lastModified lt \"2011-01-01T00:00:00Z\""));
    }

    fn compile_error(rt: &'static ResourceType, text: &str) -> String {
        CompiledFilter::parse(text, rt).expect_err(text).detail
    }

    #[test]
    fn what_could_never_match_is_refused() {
        assert!(compile_error(&USER, "title eq \"x\"").contains("does not store title"));
        assert!(
            compile_error(
                &USER,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"1\""
            )
            .contains("does not store")
        );
        assert!(compile_error(&USER, "active gt true").contains("supports eq, ne and pr"));
        assert!(compile_error(&USER, "userName eq 5").contains("compare it with a string"));
        assert!(compile_error(&USER, "meta.created gt \"yesterday\"").contains("not a dateTime"));
        assert!(compile_error(&USER, "active co \"t\"").contains("works on strings"));
        assert!(compile_error(&USER, "name eq \"x\"").contains("name is complex"));
        assert!(
            compile_error(&USER, "emails[kind eq \"work\"]").contains("no sub-attribute \"kind\"")
        );
        assert!(compile_error(&USER, "userName[value eq \"x\"]").contains("no sub-attributes"));
        assert!(compile_error(&GROUP, "userName eq \"x\"").contains("Group has no attribute"));
        assert!(compile_error(&USER, "userName gt null").contains("null can only"));
        let detail = compile_error(&USER, "userName eq \"a\" and nosuch eq \"b\"");
        assert!(detail.contains("at column 21"), "{detail}");
    }

    #[test]
    fn title_filters_are_refused_rather_than_matching_nothing() {
        assert!(CompiledFilter::parse("title pr or userName pr", &USER).is_err());
    }

    #[test]
    fn folding_shortcut_agrees_with_full_folding_on_ascii() {
        for text in ["BJensen@Example.COM", "abc", "", "A-Z_09"] {
            assert_eq!(fold_case(text), caseless::default_case_fold_str(text));
        }
        assert_eq!(fold_case("STRASSE"), fold_case("straße"));
    }
}
