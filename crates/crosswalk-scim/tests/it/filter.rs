//! The filter grammar on RFC 7644's own examples, and what the RFC leaves to read closely:
//! precedence, case, spacing, escapes.

use crosswalk_scim::filter::{AttrPath, CompValue, CompareOp, Test};
use crosswalk_scim::{CompiledFilter, Filter, USER};
use serde_json::json;

/// RFC 7644 §3.4.2.2's example filters.
const RFC_EXAMPLES: [&str; 17] = [
    r#"userName eq "bjensen""#,
    r#"name.familyName co "O'Malley""#,
    r#"userName sw "J""#,
    r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
    r#"title pr"#,
    r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
    r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
    r#"title pr and userType eq "Employee""#,
    r#"title pr or userType eq "Intern""#,
    r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
    r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
    r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
    r#"userType eq "Employee" and (emails.type eq "work")"#,
    r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
    r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
];

#[test]
fn every_rfc_example_parses_and_prints_back() {
    for text in RFC_EXAMPLES {
        let filter = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let printed = filter.to_string();
        assert_eq!(
            Filter::parse(&printed).unwrap(),
            filter,
            "{text} printed as {printed}"
        );
    }
    // The ones on attributes Crosswalk stores evaluate; the others are refused, not
    // silently empty.
    let user = json!({
        "id": "1", "userName": "Bjensen", "name": {"familyName": "O'Malley"},
        "emails": [{"value": "b@example.com", "type": "work"}], "meta": {"lastModified": "2011-05-13T04:42:34Z"}
    });
    let evaluated: Vec<bool> = RFC_EXAMPLES
        .iter()
        .filter_map(|text| {
            CompiledFilter::parse(text, &USER)
                .ok()
                .map(|f| f.matches(&user))
        })
        .collect();
    assert_eq!(
        evaluated,
        [true, true, false, false, false, true, false, true]
    );
}

fn attr(name: &str, op: CompareOp, value: &str) -> Filter {
    Filter::Attr {
        path: AttrPath::new(name, None),
        test: Test::Compare(op, CompValue::String(value.into())),
    }
}

#[test]
fn not_binds_tighter_than_and_tighter_than_or() {
    let (a, b, c) = (
        attr("a", CompareOp::Eq, "1"),
        attr("b", CompareOp::Eq, "2"),
        attr("c", CompareOp::Eq, "3"),
    );
    let or_and = Filter::Or(
        Box::new(a.clone()),
        Box::new(Filter::And(Box::new(b.clone()), Box::new(c.clone()))),
    );
    assert_eq!(
        Filter::parse(r#"a eq "1" or b eq "2" and c eq "3""#).unwrap(),
        or_and
    );
    let and_or = Filter::And(
        Box::new(Filter::Or(Box::new(a.clone()), Box::new(b.clone()))),
        Box::new(c.clone()),
    );
    assert_eq!(
        Filter::parse(r#"(a eq "1" or b eq "2") and c eq "3""#).unwrap(),
        and_or
    );
    assert_eq!(and_or.to_string(), r#"(a eq "1" or b eq "2") and c eq "3""#);
    let not_and = Filter::And(
        Box::new(Filter::Not(Box::new(a.clone()))),
        Box::new(b.clone()),
    );
    assert_eq!(
        Filter::parse(r#"not(a eq "1") and b eq "2""#).unwrap(),
        not_and
    );
    // Grouping from the left, and a right-nested tree kept by its parentheses.
    let right = Filter::And(Box::new(a), Box::new(Filter::And(Box::new(b), Box::new(c))));
    assert_eq!(right.to_string(), r#"a eq "1" and (b eq "2" and c eq "3")"#);
    assert_eq!(Filter::parse(&right.to_string()).unwrap(), right);
}

#[test]
fn operators_keywords_and_names_ignore_case() {
    let lower = Filter::parse(r#"userName eq "x" and not (active eq true) or emails pr"#).unwrap();
    let upper = Filter::parse(r#"userName EQ "x" AND NOT (active Eq TRUE) OR emails PR"#).unwrap();
    assert_eq!(lower, upper);
    let entra = r#"emails[type eq "work"].value eq "a@b.c""#;
    let filter =
        CompiledFilter::parse(&entra.to_uppercase().replace("A@B.C", "a@b.c"), &USER).unwrap();
    assert!(filter.matches(&json!({"emails": [{"value": "A@B.C", "type": "Work"}]})));
}

#[test]
fn values_follow_json() {
    let values = |text: &str| match Filter::parse(text).unwrap() {
        Filter::Attr {
            test: Test::Compare(_, value),
            ..
        } => value,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        values(r#"x eq "a \"quoted\" \\ \u00e9 \n""#),
        CompValue::String("a \"quoted\" \\ é \n".into())
    );
    assert_eq!(values("x eq null"), CompValue::Null);
    assert_eq!(values("x eq False"), CompValue::Bool(false));
    assert_eq!(
        values("x gt -12.5e3"),
        CompValue::Number(serde_json::Number::from_f64(-12500.0).unwrap())
    );
    assert_eq!(values("x le 42"), CompValue::Number(42.into()));
    // Spacing is free where it is unambiguous.
    assert_eq!(
        Filter::parse("x eq\t\"1\"").unwrap(),
        Filter::parse(r#" x  eq "1" "#).unwrap()
    );
    assert_eq!(
        Filter::parse(r#"emails[ type eq "work" ]"#).unwrap(),
        Filter::parse(r#"emails[type eq "work"]"#).unwrap()
    );
}

#[test]
fn qualified_and_entra_paths_keep_their_form() {
    let text =
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#;
    let Filter::Attr { path, .. } = Filter::parse(text).unwrap() else {
        panic!()
    };
    assert_eq!(
        path.urn.as_deref(),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    );
    assert_eq!(path.name, "employeeNumber");
    assert_eq!(Filter::parse(text).unwrap().to_string(), text);
    let entra = r#"emails[type eq "work"].value eq "a@b.c""#;
    assert_eq!(Filter::parse(entra).unwrap().to_string(), entra);
    // Refused with the column, for the invalidFilter detail.
    let error = CompiledFilter::parse(text, &USER).unwrap_err();
    assert_eq!(error.status, 400);
    assert!(
        error.detail.contains("at column 1") && error.detail.contains("does not store"),
        "{}",
        error.detail
    );
}

#[test]
fn located_errors_for_broken_filters() {
    for (text, column) in [
        (r#"userName eq"#, 12),
        (r#"userName eq "x" and"#, 20),
        (r#"emails[type eq "work""#, 22),
        (r#"userName xx "x""#, 10),
        (r#"(userName eq "x"))"#, 18),
        (r#"userName eq 'x'"#, 13),
        (r#"emails[type eq "work"].value"#, 29),
    ] {
        let error = Filter::parse(text).expect_err(text);
        assert_eq!(error.column, column, "{text}: {error}");
        let scim = error.invalid_filter(text);
        assert_eq!(
            scim.scim_type,
            Some(crosswalk_scim::ScimType::InvalidFilter)
        );
    }
}
