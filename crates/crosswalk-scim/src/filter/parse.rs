//! The filter and PATCH path parser: a lexer into words, strings and brackets, then
//! recursive descent with `or` < `and` < `not`/grouping, each level grouping from the left.
//!
//! Words are read generously (anything up to a space, bracket or quote) and then checked
//! for the role they are in, so that `usérName` or `1x` get a message about what an
//! attribute name or a number may be, at the column where it went wrong. Input is bounded
//! ([`MAX_FILTER_LENGTH`], [`MAX_EXPRESSIONS`], [`MAX_NESTING`]) so that no filter can
//! exhaust the stack of the parser, the printer or the evaluator.

use serde_json::Number;

use super::{AttrPath, CompValue, CompareOp, Filter, PatchPath, Span, SubTest, Test};
use crate::error::ScimError;

/// The longest filter accepted, in bytes.
pub const MAX_FILTER_LENGTH: usize = 8192;
/// The most attribute expressions in one filter.
pub const MAX_EXPRESSIONS: u32 = 100;
/// The deepest nesting of parentheses, `not` and value paths.
pub const MAX_NESTING: u32 = 32;

/// A filter or path that does not parse: where (1-based column, in characters) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {message}")]
pub struct FilterError {
    pub column: usize,
    pub message: String,
}

impl FilterError {
    fn at(span: Span, message: impl Into<String>) -> FilterError {
        FilterError {
            column: span.start as usize + 1,
            message: message.into(),
        }
    }

    /// As a 400 `invalidFilter`, quoting the filter.
    pub fn invalid_filter(&self, filter: &str) -> ScimError {
        ScimError::invalid_filter(format!(
            "invalid filter {}: {self}",
            crate::json::quoted(filter)
        ))
    }

    /// As a 400 `invalidPath`, quoting the path.
    pub fn invalid_path(&self, path: &str) -> ScimError {
        ScimError::invalid_path(format!(
            "invalid path {}: {self}",
            crate::json::quoted(path)
        ))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind<'t> {
    Word(&'t str),
    Str(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

#[derive(Debug, Clone)]
struct Token<'t> {
    kind: Kind<'t>,
    span: Span,
}

fn describe(token: Option<&Token<'_>>) -> String {
    match token.map(|t| &t.kind) {
        None => "the end of the filter".to_string(),
        Some(Kind::Word(w)) => format!("{:?}", w),
        Some(Kind::Str(s)) => format!("the string {}", crate::json::quoted(s)),
        Some(Kind::Open) => "\"(\"".to_string(),
        Some(Kind::Close) => "\")\"".to_string(),
        Some(Kind::OpenBracket) => "\"[\"".to_string(),
        Some(Kind::CloseBracket) => "\"]\"".to_string(),
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_word(c: char) -> bool {
    !is_space(c) && !matches!(c, '(' | ')' | '[' | ']' | '"')
}

fn lex(text: &str) -> Result<Vec<Token<'_>>, FilterError> {
    let mut tokens = Vec::new();
    // (byte offset, char offset) of each char, and the end.
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        let start = i as u32;
        let single = |kind| Token {
            kind,
            span: Span {
                start,
                end: start + 1,
            },
        };
        match c {
            c if is_space(c) => i += 1,
            '(' => {
                tokens.push(single(Kind::Open));
                i += 1;
            }
            ')' => {
                tokens.push(single(Kind::Close));
                i += 1;
            }
            '[' => {
                tokens.push(single(Kind::OpenBracket));
                i += 1;
            }
            ']' => {
                tokens.push(single(Kind::CloseBracket));
                i += 1;
            }
            '"' => {
                let mut j = i + 1;
                let mut escaped = false;
                loop {
                    let Some(&(_, d)) = chars.get(j) else {
                        return Err(FilterError::at(
                            Span {
                                start,
                                end: start + 1,
                            },
                            "this string is not closed: add a '\"'",
                        ));
                    };
                    match d {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                    j += 1;
                }
                let literal = &text[byte_at(i)..byte_at(j + 1)];
                let value: String = serde_json::from_str(literal).map_err(|e| {
                    FilterError::at(
                        Span {
                            start,
                            end: j as u32 + 1,
                        },
                        format!(
                            "this string is not valid JSON ({}); escape '\"' and '\\' with '\\'",
                            crate::json::json_message(&e)
                        ),
                    )
                })?;
                tokens.push(Token {
                    kind: Kind::Str(value),
                    span: Span {
                        start,
                        end: j as u32 + 1,
                    },
                });
                i = j + 1;
            }
            _ => {
                let mut j = i;
                while j < chars.len() && is_word(chars[j].1) {
                    j += 1;
                }
                let word = &text[byte_at(i)..byte_at(j)];
                tokens.push(Token {
                    kind: Kind::Word(word),
                    span: Span {
                        start,
                        end: j as u32,
                    },
                });
                i = j;
            }
        }
    }
    Ok(tokens)
}

struct Parser<'t> {
    tokens: Vec<Token<'t>>,
    pos: usize,
    depth: u32,
    expressions: u32,
    /// Where the input ends, for errors at the end.
    end: Span,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Result<Parser<'t>, FilterError> {
        if text.len() > MAX_FILTER_LENGTH {
            return Err(FilterError {
                column: 1,
                message: format!("longer than {MAX_FILTER_LENGTH} bytes"),
            });
        }
        let tokens = lex(text)?;
        let n = text.chars().count() as u32;
        Ok(Parser {
            tokens,
            pos: 0,
            depth: 0,
            expressions: 0,
            end: Span { start: n, end: n },
        })
    }

    fn peek(&self) -> Option<&Token<'t>> {
        self.tokens.get(self.pos)
    }

    fn peek_kind(&self) -> Option<&Kind<'t>> {
        self.peek().map(|t| &t.kind)
    }

    fn next(&mut self) -> Option<Token<'t>> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn here(&self) -> Span {
        self.peek().map_or(self.end, |t| t.span)
    }

    fn error_here(&self, message: impl Into<String>) -> FilterError {
        FilterError::at(
            self.here(),
            format!("{}, found {}", message.into(), describe(self.peek())),
        )
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek_kind(), Some(Kind::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn expect(&mut self, kind: Kind<'static>, what: &str) -> Result<Span, FilterError> {
        if self.peek_kind() == Some(&kind) {
            Ok(self.next().map(|t| t.span).unwrap_or(self.end))
        } else {
            Err(self.error_here(format!("expected {what}")))
        }
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(FilterError::at(
                self.here(),
                format!("nested more than {MAX_NESTING} deep"),
            ));
        }
        Ok(())
    }

    fn or_expr(&mut self, in_brackets: bool) -> Result<Filter, FilterError> {
        let mut left = self.and_expr(in_brackets)?;
        while self.peek_keyword("or") {
            self.next();
            let right = self.and_expr(in_brackets)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self, in_brackets: bool) -> Result<Filter, FilterError> {
        let mut left = self.unary(in_brackets)?;
        while self.peek_keyword("and") {
            self.next();
            let right = self.unary(in_brackets)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, in_brackets: bool) -> Result<Filter, FilterError> {
        let next_is_open = matches!(
            self.tokens.get(self.pos + 1).map(|t| &t.kind),
            Some(Kind::Open)
        );
        match self.peek_kind() {
            Some(Kind::Word(w)) if w.eq_ignore_ascii_case("not") && next_is_open => {
                self.next();
                self.next();
                self.enter()?;
                let inner = self.or_expr(in_brackets)?;
                self.expect(Kind::Close, "\")\" to close \"not (\"")?;
                self.depth -= 1;
                Ok(Filter::Not(Box::new(inner)))
            }
            Some(Kind::Open) => {
                self.next();
                self.enter()?;
                let inner = self.or_expr(in_brackets)?;
                self.expect(Kind::Close, "\")\"")?;
                self.depth -= 1;
                Ok(inner)
            }
            Some(Kind::Word(w)) if w.eq_ignore_ascii_case("not") => Err(FilterError::at(
                self.here(),
                "\"not\" must be followed by a filter in parentheses: not (...)",
            )),
            Some(Kind::Word(_)) => self.attr_expr(in_brackets),
            _ => Err(self.error_here("expected an attribute name, \"(\" or \"not\"")),
        }
    }

    fn attr_expr(&mut self, in_brackets: bool) -> Result<Filter, FilterError> {
        self.expressions += 1;
        if self.expressions > MAX_EXPRESSIONS {
            return Err(FilterError::at(
                self.here(),
                format!("more than {MAX_EXPRESSIONS} attribute expressions"),
            ));
        }
        let path = self.attr_path()?;
        if self.peek_kind() != Some(&Kind::OpenBracket) {
            let test = self.test()?;
            return Ok(Filter::Attr { path, test });
        }
        if in_brackets {
            return Err(FilterError::at(
                self.here(),
                "a value filter cannot hold another \"[...]\"; name the sub-attribute directly",
            ));
        }
        self.next();
        self.enter()?;
        let inner = self.or_expr(true)?;
        self.expect(Kind::CloseBracket, "\"]\" to close the value filter")?;
        self.depth -= 1;
        let sub = match self.peek() {
            Some(Token {
                kind: Kind::Word(w),
                span,
            }) if w.starts_with('.') => {
                let (w, span) = (*w, *span);
                self.next();
                let name_span = Span {
                    start: span.start + 1,
                    end: span.end,
                };
                check_name(&w[1..], name_span)?;
                let test = self.test()?;
                Some(SubTest {
                    name: w[1..].to_string(),
                    span: name_span,
                    test,
                })
            }
            _ => None,
        };
        Ok(Filter::ValuePath {
            path,
            filter: Box::new(inner),
            sub,
        })
    }

    fn attr_path(&mut self) -> Result<AttrPath, FilterError> {
        let Some(&Token {
            kind: Kind::Word(word),
            span,
        }) = self.peek()
        else {
            return Err(self.error_here("expected an attribute name"));
        };
        self.next();
        attr_path_of(word, span)
    }

    fn test(&mut self) -> Result<Test, FilterError> {
        let op = match self.peek_kind() {
            Some(Kind::Word(w)) if w.eq_ignore_ascii_case("pr") => {
                self.next();
                return Ok(Test::Present);
            }
            Some(Kind::Word(w)) => CompareOp::parse(w),
            _ => None,
        };
        let Some(op) = op else {
            return Err(
                self.error_here("expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)")
            );
        };
        self.next();
        let value = self.value()?;
        Ok(Test::Compare(op, value))
    }

    fn value(&mut self) -> Result<CompValue, FilterError> {
        let expected = "expected a value: a string in double quotes, a number, true, false or null";
        let value = match self.peek_kind() {
            Some(Kind::Str(s)) => CompValue::String(s.clone()),
            Some(Kind::Word(w)) if w.eq_ignore_ascii_case("true") => CompValue::Bool(true),
            Some(Kind::Word(w)) if w.eq_ignore_ascii_case("false") => CompValue::Bool(false),
            Some(Kind::Word(w)) if w.eq_ignore_ascii_case("null") => CompValue::Null,
            Some(Kind::Word(w)) if is_json_number(w) => match number(w) {
                Some(n) => CompValue::Number(n),
                None => {
                    return Err(FilterError::at(
                        self.here(),
                        format!("the number {w} is out of range"),
                    ));
                }
            },
            _ => return Err(self.error_here(expected)),
        };
        self.next();
        Ok(value)
    }
}

/// A JSON number as an integer when it is one, else the nearest `f64` (std's parser is
/// correctly rounded, so a printed number reads back to the same value).
fn number(word: &str) -> Option<Number> {
    if let Ok(n) = word.parse::<i64>() {
        return Some(n.into());
    }
    if let Ok(n) = word.parse::<u64>() {
        return Some(n.into());
    }
    word.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .and_then(Number::from_f64)
}

/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, JSON's number.
fn is_json_number(word: &str) -> bool {
    let b = word.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    if b.first() == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

/// `ATTRNAME = ALPHA *(ALPHA / DIGIT / "-" / "_")`, and `$ref`'s leading `$`.
fn check_name(name: &str, span: Span) -> Result<(), FilterError> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err(FilterError::at(span, "expected an attribute name"));
    };
    if !(first.is_ascii_alphabetic() || first == '$') {
        return Err(FilterError::at(
            span,
            format!("an attribute name starts with a letter, not {first:?}"),
        ));
    }
    for (i, c) in chars.enumerate() {
        if !(c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            let at = Span {
                start: span.start + i as u32 + 1,
                end: span.start + i as u32 + 2,
            };
            return Err(FilterError::at(
                at,
                format!("{c:?} cannot be part of an attribute name (letters, digits, '-' and '_')"),
            ));
        }
    }
    Ok(())
}

/// Splits `[urn ":"] name ["." sub]`: the URN is everything up to the last `:`, since
/// schema URNs hold dots (`2.0`) and colons and attribute names hold neither.
fn attr_path_of(word: &str, span: Span) -> Result<AttrPath, FilterError> {
    let (urn, rest, rest_start) = match word.rfind(':') {
        Some(i) => {
            let urn = &word[..i];
            if !urn.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
                return Err(FilterError::at(
                    span,
                    format!(
                        "{word:?} is not an attribute path: a qualified attribute starts with its schema URN (urn:...)"
                    ),
                ));
            }
            (
                Some(urn.to_string()),
                &word[i + 1..],
                span.start + urn.chars().count() as u32 + 1,
            )
        }
        None => (None, word, span.start),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    let name_span = Span {
        start: rest_start,
        end: rest_start + name.chars().count() as u32,
    };
    if name.is_empty() && urn.is_some() {
        return Err(FilterError::at(
            name_span,
            "expected an attribute name after the schema URN",
        ));
    }
    check_name(name, name_span)?;
    if let Some(sub) = sub {
        let sub_span = Span {
            start: name_span.end + 1,
            end: span.end,
        };
        if sub.contains('.') {
            return Err(FilterError::at(
                sub_span,
                "an attribute path has at most one '.' (attribute.subAttribute)",
            ));
        }
        check_name(sub, sub_span)?;
    }
    Ok(AttrPath {
        urn,
        name: name.to_string(),
        sub: sub.map(str::to_string),
        span,
    })
}

pub(super) fn parse_filter(text: &str) -> Result<Filter, FilterError> {
    let mut parser = Parser::new(text)?;
    if parser.tokens.is_empty() {
        return Err(FilterError {
            column: 1,
            message: "the filter is empty".to_string(),
        });
    }
    let filter = parser.or_expr(false)?;
    if parser.peek().is_some() {
        return Err(parser.error_here("expected \"and\", \"or\" or the end of the filter"));
    }
    Ok(filter)
}

pub(super) fn parse_patch_path(text: &str) -> Result<PatchPath, FilterError> {
    let mut parser = Parser::new(text)?;
    let attr = parser.attr_path()?;
    let mut filter = None;
    let mut sub = None;
    if parser.peek_kind() == Some(&Kind::OpenBracket) {
        parser.next();
        parser.enter()?;
        filter = Some(parser.or_expr(true)?);
        parser.expect(Kind::CloseBracket, "\"]\" to close the value filter")?;
        if let Some(Token {
            kind: Kind::Word(w),
            span,
        }) = parser.peek().cloned()
            && let Some(name) = w.strip_prefix('.')
        {
            parser.next();
            let name_span = Span {
                start: span.start + 1,
                end: span.end,
            };
            check_name(name, name_span)?;
            sub = Some((name.to_string(), name_span));
        }
    }
    if parser.peek().is_some() {
        return Err(parser.error_here("expected the end of the path"));
    }
    Ok(PatchPath { attr, filter, sub })
}

pub(super) fn parse_attr_path(text: &str) -> Result<AttrPath, FilterError> {
    let mut parser = Parser::new(text)?;
    let path = parser.attr_path()?;
    if parser.peek().is_some() {
        return Err(parser.error_here("expected the end of the attribute path"));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        Filter::parse(text).expect_err(text).to_string()
    }

    #[test]
    fn numbers_follow_json() {
        for ok in ["0", "-1", "12.5", "1e10", "1E+3", "-0.5e-2"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in ["", "-", "01", "1.", ".5", "1e", "+1", "1x", "0x10"] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    #[test]
    fn errors_say_where_and_what() {
        assert_eq!(
            error("userName eq"),
            "at column 12: expected a value: a string in double quotes, a number, true, false or null, found the end of the filter"
        );
        assert_eq!(
            error("userName equals \"x\""),
            "at column 10: expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr), found \"equals\""
        );
        assert_eq!(
            error("userName eq \"x"),
            "at column 13: this string is not closed: add a '\"'"
        );
        assert_eq!(
            error("(userName pr"),
            "at column 13: expected \")\", found the end of the filter"
        );
        assert_eq!(
            error("userName pr or"),
            "at column 15: expected an attribute name, \"(\" or \"not\", found the end of the filter"
        );
        assert_eq!(
            error("usér pr"),
            "at column 3: 'é' cannot be part of an attribute name (letters, digits, '-' and '_')"
        );
        assert_eq!(
            error("not userName pr"),
            "at column 1: \"not\" must be followed by a filter in parentheses: not (...)"
        );
        assert_eq!(
            error("a.b.c pr"),
            "at column 3: an attribute path has at most one '.' (attribute.subAttribute)"
        );
        assert!(error("emails[type eq \"work\" and x[y pr]]").contains("cannot hold another"));
        assert!(error("foo:bar pr").contains("schema URN"));
        assert_eq!(error("   "), "at column 1: the filter is empty");
        assert!(error("x eq 1e999").contains("out of range"));
        assert!(error("x eq \"\\q\"").contains("not valid JSON"));
        assert!(error("x pr y pr").contains("expected \"and\", \"or\" or the end"));
    }

    #[test]
    fn bounds_hold() {
        let deep = format!("{}x pr{}", "(".repeat(40), ")".repeat(40));
        assert!(error(&deep).contains("nested more than"));
        let many = vec!["x pr"; 101].join(" and ");
        assert!(error(&many).contains("more than 100"));
        assert!(error(&"x".repeat(MAX_FILTER_LENGTH + 1)).contains("longer than"));
    }
}
