//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): a typed syntax tree, its
//! parser ([`Filter::parse`], in `parse.rs`), its printer (`Display`: what it prints parses
//! back to the same tree), the checks and evaluation against a resource type's schema
//! (`eval.rs`), and the recognition of lookups a store can answer from an index
//! (`pushdown.rs`).
//!
//! The grammar is the RFC's Figure 1, with the errata's `not (` spacing, and these
//! additions: operators, `and`/`or`/`not` and `true`/`false`/`null` in any case; a value
//! path may be followed by a sub-attribute and a test, as Microsoft Entra ID sends
//! (`emails[type eq "work"].value eq "x"`, which means the same as
//! `emails[type eq "work" and value eq "x"]`); attribute paths may carry a schema URN
//! (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`). A value
//! path may not nest inside another (RFC 7644 erratum 4690).

mod eval;
mod parse;
pub mod pushdown;

use std::fmt;

use serde_json::Number;

pub use eval::{CompiledFilter, compare_values, fold_case};
pub(crate) use eval::{ElementFilter, container, get, get_in};
pub use parse::{FilterError, MAX_EXPRESSIONS, MAX_FILTER_LENGTH, MAX_NESTING};

/// Where a piece of the filter was, in characters from the start (0-based, end exclusive).
///
/// Spans do not take part in equality: two filters are equal when they say the same thing,
/// however they were spaced or parenthesised.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

impl Eq for Span {}

/// `[URN ":"] name ["." sub]`, names as written (they are compared without regard to case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN the path is qualified with, without the trailing `:`.
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
    pub span: Span,
}

impl AttrPath {
    /// An unqualified path, for building filters in code.
    pub fn new(name: impl Into<String>, sub: Option<&str>) -> AttrPath {
        AttrPath {
            urn: None,
            name: name.into(),
            sub: sub.map(str::to_string),
            span: Span::default(),
        }
    }

    /// Whether this is `name` (or `name.sub`), case ignored, unqualified or qualified with
    /// `schema`.
    pub fn is(&self, schema: &str, name: &str, sub: Option<&str>) -> bool {
        self.urn
            .as_deref()
            .is_none_or(|urn| urn.eq_ignore_ascii_case(schema))
            && self.name.eq_ignore_ascii_case(name)
            && match (self.sub.as_deref(), sub) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// The attribute operators (RFC 7644 Table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// The operator, in any case.
    pub fn parse(word: &str) -> Option<CompareOp> {
        CompareOp::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }

    /// `gt`, `ge`, `lt`, `le`.
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        )
    }

    /// `co`, `sw`, `ew`.
    pub fn is_substring(self) -> bool {
        matches!(self, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
    }
}

/// A comparison value: JSON's `null`, booleans, numbers and strings. Dates are strings,
/// compared as instants when the attribute is a `dateTime`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => write!(f, "{n}"),
            CompValue::String(s) => {
                let quoted = serde_json::to_string(s).map_err(|_| fmt::Error)?;
                f.write_str(&quoted)
            }
        }
    }
}

/// What an attribute expression asks of its attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// `pr`: the attribute has a non-empty value.
    Present,
    Compare(CompareOp, CompValue),
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Test::Present => f.write_str("pr"),
            Test::Compare(op, value) => write!(f, "{} {value}", op.as_str()),
        }
    }
}

/// The `.sub op value` after a value path's `]` (Entra's form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubTest {
    pub name: String,
    pub span: Span,
    pub test: Test,
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `attrPath op value` or `attrPath pr`.
    Attr {
        path: AttrPath,
        test: Test,
    },
    /// `attrPath[valFilter]`, optionally followed by `.sub op value`: some value of the
    /// multi-valued (or complex) attribute satisfies the inner filter, whose paths are its
    /// sub-attributes (and the sub-test, if any).
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
        sub: Option<SubTest>,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

impl Filter {
    /// Parses a filter; the error says at which column, for an `invalidFilter` detail.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        parse::parse_filter(text)
    }

    /// `path eq "value"`, for building filters in code.
    pub fn equals(path: AttrPath, value: impl Into<String>) -> Filter {
        Filter::Attr {
            path,
            test: Test::Compare(CompareOp::Eq, CompValue::String(value.into())),
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Filter::Or(..) => 0,
            Filter::And(..) => 1,
            _ => 2,
        }
    }

    /// Every attribute path in the filter, with the value path it is inside (whose
    /// sub-attributes it names), outermost first.
    pub fn visit_paths<'f>(&'f self, visit: &mut dyn FnMut(&'f AttrPath, Option<&'f AttrPath>)) {
        self.visit_paths_within(None, visit);
    }

    fn visit_paths_within<'f>(
        &'f self,
        parent: Option<&'f AttrPath>,
        visit: &mut dyn FnMut(&'f AttrPath, Option<&'f AttrPath>),
    ) {
        match self {
            Filter::Attr { path, .. } => visit(path, parent),
            Filter::ValuePath { path, filter, .. } => {
                visit(path, parent);
                filter.visit_paths_within(Some(path), visit);
            }
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.visit_paths_within(parent, visit);
                b.visit_paths_within(parent, visit);
            }
            Filter::Not(inner) => inner.visit_paths_within(parent, visit),
        }
    }
}

impl std::str::FromStr for Filter {
    type Err = FilterError;

    fn from_str(text: &str) -> Result<Filter, FilterError> {
        Filter::parse(text)
    }
}

/// Writes `child`, in parentheses when it binds more loosely than its place needs; the
/// right side of `a and b` is parenthesised when it is another `and` too, so that the tree
/// comes back as it was (`and` and `or` group from the left).
fn write_operand(
    f: &mut fmt::Formatter<'_>,
    child: &Filter,
    parent: u8,
    right: bool,
) -> fmt::Result {
    let precedence = child.precedence();
    if precedence < parent || (right && precedence == parent) {
        write!(f, "({child})")
    } else {
        write!(f, "{child}")
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Attr { path, test } => write!(f, "{path} {test}"),
            Filter::ValuePath { path, filter, sub } => {
                write!(f, "{path}[{filter}]")?;
                if let Some(sub) = sub {
                    write!(f, ".{} {}", sub.name, sub.test)?;
                }
                Ok(())
            }
            Filter::And(a, b) | Filter::Or(a, b) => {
                let precedence = self.precedence();
                write_operand(f, a, precedence, false)?;
                f.write_str(if precedence == 0 { " or " } else { " and " })?;
                write_operand(f, b, precedence, true)
            }
            Filter::Not(inner) => write!(f, "not ({inner})"),
        }
    }
}

/// A PATCH `path` (RFC 7644 §3.5.2): `attrPath`, or `attrPath[valFilter]` optionally
/// followed by `.sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    /// The sub-attribute after `]`, with where it was.
    pub sub: Option<(String, Span)>,
}

impl PatchPath {
    /// Parses a PATCH path; errors are for an `invalidPath` detail.
    pub fn parse(text: &str) -> Result<PatchPath, FilterError> {
        parse::parse_patch_path(text)
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some((sub, _)) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl AttrPath {
    /// Parses a lone attribute path (`attributes=`, `sortBy`, a key of a pathless PATCH).
    pub fn parse(text: &str) -> Result<AttrPath, FilterError> {
        parse::parse_attr_path(text)
    }
}
