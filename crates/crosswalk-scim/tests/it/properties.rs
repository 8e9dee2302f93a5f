//! Invariants, on generated input: filters print and parse back to the same tree; no input
//! makes a parser or PATCH panic; PATCH then read back gives what was written; a
//! projection keeps `id` and `schemas`; the pushdown plan never misses a match; a User
//! survives the trip through the directory model.

use crosswalk_scim::filter::pushdown::{Lookup, plan};
use crosswalk_scim::filter::{AttrPath, CompValue, CompareOp, Span, SubTest, Test, fold_case};
use crosswalk_scim::{
    CompiledFilter, Email, Filter, Name, PatchPath, PatchRequest, Projection, USER, User,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// Generated filters
// ---------------------------------------------------------------------------------------

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "userName",
            "displayName",
            "emails",
            "name",
            "active",
            "id",
            "externalId",
            "meta",
            "members",
            "x",
            "$ref"
        ])
        .prop_map(str::to_string),
        "[a-zA-Z][a-zA-Z0-9_-]{0,8}".prop_filter("not a keyword", |n| {
            ![
                "and", "or", "not", "pr", "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le",
                "true", "false", "null",
            ]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(n))
        }),
    ]
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    (
        prop::option::of(select(vec![
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:crosswalk:params:scim:schemas:extension:2.0:User",
        ])),
        name(),
        prop::option::of(name()),
    )
        .prop_map(|(urn, name, sub)| AttrPath {
            urn: urn.map(str::to_string),
            name,
            sub,
            span: Span::default(),
        })
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        any::<i64>().prop_map(|n| CompValue::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(CompValue::Number)),
        any::<String>().prop_map(CompValue::String),
        "[a-z@.\"\\\\ ]{0,12}".prop_map(CompValue::String),
    ]
}

fn test() -> impl Strategy<Value = Test> {
    prop_oneof![1 => Just(Test::Present), 6 => (select(CompareOp::ALL.to_vec()), comp_value()).prop_map(|(op, v)| Test::Compare(op, v))]
}

/// Filters inside a value path: no nested value paths, unqualified single names.
fn element_filter() -> impl Strategy<Value = Filter> {
    let leaf = (name(), test()).prop_map(|(name, test)| Filter::Attr {
        path: AttrPath::new(name, None),
        test,
    });
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
}

fn filter() -> impl Strategy<Value = Filter> {
    let leaf = prop_oneof![
        3 => (attr_path(), test()).prop_map(|(path, test)| Filter::Attr { path, test }),
        1 => (attr_path(), element_filter(), prop::option::of((name(), test()))).prop_map(|(mut path, filter, sub)| {
            path.sub = None;
            Filter::ValuePath {
                path,
                filter: Box::new(filter),
                sub: sub.map(|(name, test)| SubTest { name, span: Span::default(), test }),
            }
        }),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
}

// ---------------------------------------------------------------------------------------
// Generated users
// ---------------------------------------------------------------------------------------

fn small_text() -> impl Strategy<Value = String> {
    // Few distinct values, in mixed case, so that look-ups and filters collide.
    (
        select(vec![
            "ann", "bob", "a@x.com", "b@x.com", "Ann", "A@X.COM", "ß", "SS", "İ",
        ]),
        any::<bool>(),
    )
        .prop_map(|(t, upper)| {
            if upper {
                t.to_uppercase()
            } else {
                t.to_string()
            }
        })
}

fn user() -> impl Strategy<Value = User> {
    (
        "[a-z0-9]{1,6}",
        prop::option::of(small_text()),
        prop::option::of(small_text()),
        prop::option::of((
            prop::option::of(small_text()),
            prop::option::of(small_text()),
            prop::option::of(small_text()),
        )),
        prop::option::of(small_text()),
        vec(
            (
                small_text(),
                prop::option::of(select(vec!["work", "home", "other", "Work"])),
            ),
            0..4,
        ),
        prop::option::of(any::<Index>()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(id, external_id, user_name, name, display_name, emails, primary, active)| {
                let primary = primary
                    .filter(|_| !emails.is_empty())
                    .map(|i| i.index(emails.len()));
                User {
                    id: Some(id.into()),
                    external_id: external_id.map(Into::into),
                    user_name: user_name.map(Into::into),
                    name: name
                        .map(|(formatted, given, family)| Name {
                            formatted: formatted.map(Into::into),
                            given_name: given.map(Into::into),
                            family_name: family.map(Into::into),
                        })
                        .filter(|n| {
                            n.formatted.is_some()
                                || n.given_name.is_some()
                                || n.family_name.is_some()
                        }),
                    display_name: display_name.map(Into::into),
                    emails: emails
                        .into_iter()
                        .enumerate()
                        .map(|(i, (value, email_type))| Email {
                            value: value.into(),
                            email_type: email_type.map(Into::into),
                            primary: Some(i) == primary,
                        })
                        .collect(),
                    active,
                    ..User::default()
                }
            },
        )
}

/// Look-ups as a store answers them: by [`Lookup::key`], independently of the evaluator.
fn found_by(lookup: &Lookup, user: &User) -> bool {
    let key = lookup.key();
    let fold = |t: &str| fold_case(t).into_owned();
    match lookup {
        Lookup::Id(_) => user.id.as_deref() == Some(&*key),
        Lookup::ExternalId(_) => user.external_id.as_deref() == Some(&*key),
        Lookup::UserName(_) => user.user_name.as_deref().map(fold).as_deref() == Some(&*key),
        Lookup::Email { email_type, .. } => user.emails.iter().any(|e| {
            fold(&e.value) == key
                && email_type
                    .as_deref()
                    .is_none_or(|t| e.email_type.as_deref().map(fold) == Some(fold(t)))
        }),
        Lookup::DisplayName(_) => user.display_name.as_deref().map(fold).as_deref() == Some(&*key),
        Lookup::Member(_) => false,
    }
}

/// Filters a provider (or a person) would send, over the attributes users are made of.
fn user_filter() -> impl Strategy<Value = String> {
    let value = || small_text().prop_map(|t| serde_json::to_string(&t).unwrap());
    let leaf = prop_oneof![
        value().prop_map(|v| format!("userName eq {v}")),
        value().prop_map(|v| format!("externalId eq {v}")),
        value().prop_map(|v| format!("displayName eq {v}")),
        value().prop_map(|v| format!("emails.value eq {v}")),
        value().prop_map(|v| format!("emails eq {v}")),
        value().prop_map(|v| format!("emails[value eq {v}]")),
        (select(vec!["work", "home", "WORK"]), value())
            .prop_map(|(t, v)| format!("emails[type eq \"{t}\"].value eq {v}")),
        (select(vec!["work", "home"]), value())
            .prop_map(|(t, v)| format!("emails[value eq {v} and type eq \"{t}\"]")),
        value().prop_map(|v| format!("id eq {v}")),
        value().prop_map(|v| format!("userName sw {v}")),
        Just("active eq true".to_string()),
        Just("emails[primary eq true].value pr".to_string()),
    ];
    leaf.prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) or ({b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

// ---------------------------------------------------------------------------------------
// PATCH generation
// ---------------------------------------------------------------------------------------

fn patch_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        small_text().prop_map(Value::String),
        any::<bool>().prop_map(Value::Bool),
        Just(json!("False")),
        Just(Value::Null),
        Just(json!(7)),
        Just(json!({"givenName": "G", "familyName": "F"})),
        Just(json!([{"value": "n@x.com", "type": "work", "primary": true}])),
        Just(json!({"value": "n@x.com"})),
        Just(json!([{"value": "u1"}])),
        Just(
            json!({"displayName": "D", "name.givenName": "G", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "1"})
        ),
    ]
}

fn patch_path() -> impl Strategy<Value = Option<String>> {
    prop::option::of(select(vec![
        "userName",
        "displayName",
        "active",
        "externalId",
        "name",
        "name.givenName",
        "emails",
        "emails.value",
        "emails[type eq \"work\"].value",
        "emails[type eq \"work\"]",
        "emails[value co \"x\"]",
        "emails[primary eq true].type",
        "groups",
        "id",
        "meta.created",
        "title",
        "urn:crosswalk:params:scim:schemas:extension:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        "nosuch",
        "emails[",
    ]))
    .prop_map(|p| p.map(str::to_string))
}

fn operation() -> impl Strategy<Value = Value> {
    (
        select(vec!["add", "Add", "remove", "Remove", "replace", "REPLACE"]),
        patch_path(),
        prop::option::of(patch_value()),
    )
        .prop_map(|(op, path, value)| {
            let mut operation = json!({"op": op});
            if let Some(path) = path {
                operation["path"] = json!(path);
            }
            if let Some(value) = value {
                operation["value"] = value;
            }
            operation
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn printed_filters_parse_back_to_the_same_tree(filter in filter()) {
        let printed = filter.to_string();
        let parsed = Filter::parse(&printed);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&filter), "{} gave {:?}", printed, parsed);
    }

    #[test]
    fn printed_patch_paths_parse_back(path in attr_path(), inner in prop::option::of(element_filter()), sub in prop::option::of(name())) {
        let path = PatchPath { attr: AttrPath { sub: if inner.is_some() { None } else { path.sub.clone() }, ..path }, filter: inner, sub: None };
        let path = PatchPath { sub: sub.filter(|_| path.filter.is_some()).map(|s| (s, Span::default())), ..path };
        let printed = path.to_string();
        prop_assert_eq!(PatchPath::parse(&printed).ok(), Some(path), "{}", printed);
    }

    #[test]
    fn no_text_makes_the_parsers_panic(text in any::<String>()) {
        let _ = Filter::parse(&text);
        let _ = PatchPath::parse(&text);
        let _ = AttrPath::parse(&text);
        let _ = CompiledFilter::parse(&text, &USER);
    }

    #[test]
    fn edited_filters_neither_panic_nor_print_unparsably(
        filter in filter(),
        edits in vec((any::<Index>(), 0u8..3, select("()[]\" .\\ab".chars().collect::<Vec<_>>())), 0..6),
        user in user(),
    ) {
        let mut chars: Vec<char> = filter.to_string().chars().collect();
        for (at, op, c) in edits {
            let at = at.index(chars.len() + 1);
            match op {
                0 if at < chars.len() => chars[at] = c,
                1 => chars.insert(at, c),
                _ if at < chars.len() => { chars.remove(at); }
                _ => {}
            }
        }
        let text: String = chars.into_iter().collect();
        if let Ok(parsed) = Filter::parse(&text) {
            prop_assert_eq!(Filter::parse(&parsed.to_string()).ok(), Some(parsed.clone()));
            if let Ok(compiled) = parsed.compile(&USER) {
                let _ = compiled.matches(&user.to_json());
                let _ = plan(&compiled);
            }
        }
    }

    #[test]
    fn the_plan_never_misses_a_match(text in user_filter(), users in vec(user(), 1..6)) {
        let filter = CompiledFilter::parse(&text, &USER).unwrap();
        let Some(plan) = plan(&filter) else { return Ok(()) };
        for user in &users {
            let matches = filter.matches(&user.to_json());
            let found = plan.lookups.iter().any(|l| found_by(l, user));
            prop_assert!(!matches || found, "{} matches {:?} but {:?} misses it", text, user, plan);
            if plan.exact {
                prop_assert_eq!(found, matches, "{} is exact yet {:?} finds {:?}", text, plan, user);
            }
        }
    }

    #[test]
    fn no_patch_panics_and_every_result_reads_back(user in user(), operations in vec(operation(), 1..5)) {
        let user = User { user_name: user.user_name.or(Some("someone".into())), ..user };
        let Ok(request) = PatchRequest::from_json(&json!({"Operations": operations})) else { return Ok(()) };
        if let Ok(patched) = request.apply_to_user(&user) {
            prop_assert_eq!(&patched.id, &user.id);
            prop_assert!(patched.emails.iter().filter(|e| e.primary).count() <= 1, "{:?}", patched.emails);
            prop_assert_eq!(User::from_json(&patched.to_json()).ok(), Some(User { meta: patched.meta.clone(), ..patched.clone() }));
            prop_assert!(patched.user_name.is_some(), "the required userName was removed");
        }
    }

    #[test]
    fn a_replaced_value_reads_back(user in user(), value in small_text(), active in any::<bool>(), path in select(vec![
        "userName", "displayName", "externalId", "name.givenName", "name.familyName", "name.formatted",
        "emails[type eq \"work\"].value",
    ])) {
        for (path, value) in [(path, json!(value)), ("active", json!(if active { "True" } else { "False" }))] {
            let request = PatchRequest::from_json(&json!({"Operations": [{"op": "Replace", "path": path, "value": value}]})).unwrap();
            let patched = request.apply_to_user(&user).unwrap();
            let (account, extras) = patched.into_account().unwrap();
            let read = User::from_account(&account, &extras).to_json();
            let got = match path {
                "name.givenName" => read["name"]["givenName"].clone(),
                "name.familyName" => read["name"]["familyName"].clone(),
                "name.formatted" => read["name"]["formatted"].clone(),
                "emails[type eq \"work\"].value" => read["emails"].as_array().unwrap().iter()
                    .find(|e| e["type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("work"))).map(|e| e["value"].clone()).unwrap_or(Value::Null),
                "active" => json!(active),
                other => read[other].clone(),
            };
            let expected = if path == "active" { json!(active) } else { value };
            prop_assert_eq!(got, expected, "{}", path);
        }
    }

    #[test]
    fn projections_keep_id_and_schemas(
        user in user(),
        attributes in prop::option::of(vec(select(vec!["userName", "emails.value", "name", "nosuch", "id", "meta", "emails", "title", "NAME.GIVENNAME"]), 0..4)),
        excluded in prop::option::of(vec(select(vec!["id", "schemas", "emails", "name.givenName", "userName", "urn:crosswalk:params:scim:schemas:extension:2.0:User"]), 0..4)),
    ) {
        let mut json = user.to_json();
        let projection = Projection::parse(attributes.map(|a| a.join(",")).as_deref(), excluded.map(|e| e.join(",")).as_deref(), &USER).unwrap();
        projection.apply(&mut json, &USER);
        prop_assert_eq!(&json["id"], &json!(user.id.as_deref().unwrap()));
        prop_assert_eq!(&json["schemas"], &json!(["urn:ietf:params:scim:schemas:core:2.0:User"]));
        prop_assert!(User::from_json(&json).is_ok());
    }

    #[test]
    fn a_user_survives_the_directory_model(user in user()) {
        let (account, extras) = user.clone().into_account().unwrap();
        let back = User::from_account(&account, &extras);
        let meta = back.meta.clone();
        prop_assert_eq!(back, User { meta, ..user });
        let stored = serde_json::to_string(&extras).unwrap();
        prop_assert_eq!(serde_json::from_str::<crosswalk_scim::UserExtras>(&stored).unwrap(), extras);
    }

    #[test]
    fn no_request_body_makes_a_parser_panic(
        sample in select(vec![
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"u1"}]},{"op":"remove","path":"emails[type eq \"work\"]"}]}"#,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"attributes":["userName"],"filter":"userName sw \"a\"","startIndex":1,"count":10}"#,
            r#"{"failOnErrors":1,"Operations":[{"method":"POST","path":"/Users","bulkId":"q","data":{"userName":"a"}},{"method":"PATCH","path":"/Groups/bulkId:q","data":{"Operations":[]}}]}"#,
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"a","name":{"givenName":"G"},"emails":[{"value":"a@b.c","primary":"True"}],"active":"False"}"#,
        ]),
        edits in vec((any::<Index>(), 0u8..3, select(b"{}[]\":,\\ 0aetf-".to_vec())), 0..8),
        noise in vec(any::<u8>(), 0..40),
    ) {
        let mut bytes = sample.as_bytes().to_vec();
        for (at, op, byte) in edits {
            let at = at.index(bytes.len() + 1);
            match op {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ if at < bytes.len() => { bytes.remove(at); }
                _ => {}
            }
        }
        for body in [&bytes[..], &noise[..]] {
            if let Ok(request) = PatchRequest::parse(body) {
                let _ = request.apply_to_user(&User { id: Some("u1".into()), user_name: Some("a".into()), ..User::default() });
                let _ = request.apply_to_group(&crosswalk_scim::Group { id: Some("g".into()), display_name: Some("G".into()), ..Default::default() });
            }
            if let Ok(search) = crosswalk_scim::SearchRequest::parse(body) {
                let _ = crosswalk_scim::ListQuery::from_search(&search, &USER, crosswalk_scim::QueryLimits::default());
            }
            if let Ok(bulk) = crosswalk_scim::BulkRequest::parse(body, crosswalk_scim::message::BulkLimits { max_operations: 10, max_payload_size: 4096 }) {
                let _ = bulk.order();
            }
            if let Ok(value) = crosswalk_scim::parse_strict(body) {
                if let Ok(user) = User::from_json(&value) {
                    let _ = user.check_write();
                    let _ = user.into_account();
                }
                if let Ok(group) = crosswalk_scim::Group::from_json(&value) {
                    let _ = group.into_group();
                }
            }
        }
    }

    #[test]
    fn folding_ascii_takes_the_shortcut_to_the_same_place(text in "[ -~]{0,20}") {
        prop_assert_eq!(fold_case(&text).into_owned(), caseless::default_case_fold_str(&text));
    }
}
