//! PATCH on RFC 7644 §3.5.2's examples, and the errors it gives.

use crosswalk_scim::{Group, PatchRequest, ScimType, User};
use serde_json::{Value, json};

fn request(operations: Value) -> PatchRequest {
    PatchRequest::from_json(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations}))
        .unwrap_or_else(|e| panic!("{e:?}"))
}

fn babs() -> User {
    User::from_json(&json!({
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "bjensen",
        "userName": "bjensen",
        "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara"},
        "displayName": "Babs Jensen",
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "active": true,
        "meta": {"resourceType": "User", "version": "W/\"a330bc54f0671c9\""}
    }))
    .unwrap()
}

fn tour_guides() -> Group {
    Group::from_json(&json!({
        "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "displayName": "Tour Guides",
        "members": [
            {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen"},
            {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge"}
        ]
    }))
    .unwrap()
}

fn members(group: &Group) -> Vec<&str> {
    group.members.iter().map(|m| m.value.as_str()).collect()
}

fn emails(user: &User) -> Vec<(&str, Option<&str>, bool)> {
    user.emails
        .iter()
        .map(|e| (e.value.as_str(), e.email_type.as_deref(), e.primary))
        .collect()
}

#[test]
fn rfc_add_examples() {
    let group = request(json!([{"op": "add", "path": "members", "value": [{
        "display": "Babs Jensen",
        "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
        "value": "2819c223-7f76-453a-919d-413861904646"}]}]))
    .apply_to_group(&Group {
        members: vec![],
        ..tour_guides()
    })
    .unwrap();
    assert_eq!(members(&group), ["2819c223-7f76-453a-919d-413861904646"]);

    let user = request(json!([{"op": "add", "value": {
        "emails": [{"value": "babs@jensen.org", "type": "home"}, {"value": "barbara@jensen.net", "type": "other"}],
        "nickname": "Babs"}}]))
    .apply_to_user(&babs())
    .unwrap();
    assert_eq!(
        emails(&user),
        [
            ("bjensen@example.com", Some("work"), true),
            ("babs@jensen.org", Some("home"), false),
            ("barbara@jensen.net", Some("other"), false)
        ]
    );
}

#[test]
fn rfc_remove_examples() {
    let group = request(json!([{"op": "remove", "path": "members"}]))
        .apply_to_group(&tour_guides())
        .unwrap();
    assert!(group.members.is_empty());
    let group = request(json!([{"op": "remove", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}]))
        .apply_to_group(&tour_guides())
        .unwrap();
    assert_eq!(members(&group), ["902c246b-6245-4190-8e05-00816be7344a"]);
    let user = request(
        json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
    )
    .apply_to_user(&babs())
    .unwrap();
    assert_eq!(emails(&user), [("babs@jensen.org", Some("home"), false)]);
    // Remove all members and add one: the RFC's way to replace them.
    let group = request(json!([
        {"op": "remove", "path": "members"},
        {"op": "add", "path": "members", "value": [{"value": "2819c223-7f76-453a-919d-413861904646"}, {"value": "08e1d05d-121c-4561-8b96-473d93df9210"}]}
    ]))
    .apply_to_group(&tour_guides())
    .unwrap();
    assert_eq!(
        members(&group),
        [
            "2819c223-7f76-453a-919d-413861904646",
            "08e1d05d-121c-4561-8b96-473d93df9210"
        ]
    );
}

#[test]
fn rfc_replace_examples() {
    let group = request(json!([{"op": "replace", "path": "members", "value": [
        {"display": "Babs Jensen", "value": "2819c223-7f76-453a-919d-413861904646"},
        {"display": "James Smith", "value": "08e1d05d-121c-4561-8b96-473d93df9210"}]}]))
    .apply_to_group(&tour_guides())
    .unwrap();
    assert_eq!(
        members(&group),
        [
            "2819c223-7f76-453a-919d-413861904646",
            "08e1d05d-121c-4561-8b96-473d93df9210"
        ]
    );
    // Addresses are not stored: accepted and dropped, however they are named.
    for path in [
        "addresses[type eq \"work\"]",
        "addresses[type eq \"work\"].streetAddress",
    ] {
        let user = request(json!([{"op": "replace", "path": path, "value": "1010 Broadway Ave"}]))
            .apply_to_user(&babs())
            .unwrap();
        assert_eq!(user, babs());
    }
    let user = request(json!([{"op": "replace", "value": {
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
        "nickname": "Babs"}}]))
    .apply_to_user(&babs())
    .unwrap();
    assert_eq!(user, babs());
    // A complex value: the sub-attributes given change, the others stay (§3.5.2.3).
    let user = request(json!([{"op": "replace", "path": "name", "value": {"givenName": "Babs"}}]))
        .apply_to_user(&babs())
        .unwrap();
    let name = user.name.unwrap();
    assert_eq!(
        (name.given_name.as_deref(), name.family_name.as_deref()),
        (Some("Babs"), Some("Jensen"))
    );
    let user = request(json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "b@j.org", "type": "home"}}]))
        .apply_to_user(&babs())
        .unwrap();
    assert_eq!(emails(&user)[1], ("b@j.org", Some("home"), false));
}

#[test]
fn one_address_stays_primary() {
    let user = request(json!([{"op": "add", "path": "emails", "value": [{"value": "new@x.com", "type": "other", "primary": true}]}]))
        .apply_to_user(&babs())
        .unwrap();
    assert_eq!(user.emails.iter().filter(|e| e.primary).count(), 1);
    assert!(user.emails[2].primary);
    let user = request(
        json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
    )
    .apply_to_user(&babs())
    .unwrap();
    assert_eq!(
        emails(&user),
        [
            ("bjensen@example.com", Some("work"), false),
            ("babs@jensen.org", Some("home"), true)
        ]
    );
    let (account, _) = user.into_account().unwrap();
    assert_eq!(account.email.as_deref(), Some("babs@jensen.org"));
}

fn error(operations: Value) -> (Option<ScimType>, String) {
    let error = match PatchRequest::from_json(&json!({"Operations": operations})) {
        Ok(request) => request.apply_to_user(&babs()).expect_err("should fail"),
        Err(error) => error,
    };
    (error.scim_type, error.detail)
}

#[test]
fn errors_carry_the_right_scim_type() {
    use ScimType::*;
    let cases = [
        (json!([{"op": "remove"}]), NoTarget),
        (
            json!([{"op": "replace", "path": "emails[value co \"nowhere\"].type", "value": "work"}]),
            NoTarget,
        ),
        (
            json!([{"op": "replace", "path": "nosuch", "value": "x"}]),
            InvalidPath,
        ),
        (
            json!([{"op": "replace", "path": "emails[type eq", "value": "x"}]),
            InvalidPath,
        ),
        (
            json!([{"op": "replace", "path": "name.nosuch", "value": "x"}]),
            InvalidPath,
        ),
        (
            json!([{"op": "replace", "value": {"nosuch": 1}}]),
            InvalidPath,
        ),
        (
            json!([{"op": "replace", "path": "active", "value": "maybe"}]),
            InvalidValue,
        ),
        (
            json!([{"op": "replace", "path": "userName", "value": 5}]),
            InvalidValue,
        ),
        (
            json!([{"op": "replace", "path": "name", "value": "Babs"}]),
            InvalidValue,
        ),
        (json!([{"op": "replace", "value": "Babs"}]), InvalidValue),
        (
            json!([{"op": "replace", "path": "id", "value": "x"}]),
            Mutability,
        ),
        (json!([{"op": "remove", "path": "meta"}]), Mutability),
        (
            json!([{"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"}]),
            Mutability,
        ),
        (
            json!([{"op": "add", "path": "groups", "value": {"value": "g"}}]),
            Mutability,
        ),
        (json!([{"op": "remove", "path": "userName"}]), Mutability),
        (
            json!([{"op": "replace", "path": "userName", "value": null}]),
            Mutability,
        ),
        (
            json!([{"op": "replace", "path": "urn:crosswalk:params:scim:schemas:extension:2.0:User:emailVerified", "value": true}]),
            Mutability,
        ),
        (json!([{"op": "move", "path": "userName"}]), InvalidSyntax),
        (json!([{"op": "add", "path": "userName"}]), InvalidSyntax),
        (json!([]), InvalidSyntax),
    ];
    for (operations, expected) in cases {
        let (scim_type, detail) = error(operations.clone());
        assert_eq!(scim_type, Some(expected), "{operations}: {detail}");
        assert!(!detail.is_empty());
    }
    let (_, detail) = error(
        json!([{"op": "add", "path": "title", "value": "x"}, {"op": "replace", "path": "id", "value": "x"}]),
    );
    assert!(
        detail.starts_with("operation 2 (replace \"id\"): id is read-only"),
        "{detail}"
    );
}

#[test]
fn immutable_member_ids_cannot_be_rewritten() {
    let error = request(json!([{"op": "replace", "path": "members[value eq \"902c246b-6245-4190-8e05-00816be7344a\"].value", "value": "other"}]))
        .apply_to_group(&tour_guides())
        .unwrap_err();
    assert_eq!(error.scim_type, Some(ScimType::Mutability));
    let error = request(json!([{"op": "remove", "path": "displayName"}]))
        .apply_to_group(&tour_guides())
        .unwrap_err();
    assert_eq!(error.scim_type, Some(ScimType::Mutability));
}

#[test]
fn the_crosswalk_extension_object_is_the_clients_to_add_and_remove() {
    const USER_EXTENSION: &str = "urn:crosswalk:params:scim:schemas:extension:2.0:User";
    const GROUP_EXTENSION: &str = "urn:crosswalk:params:scim:schemas:extension:2.0:Group";
    // Added (or replaced) with nothing but its own `schemas` inside, as scim2-models
    // writes an extension object: the object is there, empty, and written back.
    for op in ["add", "replace"] {
        let user = request(
            json!([{"op": op, "path": USER_EXTENSION, "value": {"schemas": [USER_EXTENSION]}}]),
        )
        .apply_to_user(&babs())
        .unwrap();
        assert_eq!(user.crosswalk, Some(Default::default()), "{op}");
        let written = user.to_json();
        assert_eq!(written[USER_EXTENSION], json!({}), "{written}");
        assert_eq!(
            written["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:User", USER_EXTENSION])
        );
        assert_eq!(User::from_json(&written).unwrap().crosswalk, user.crosswalk);
        let group = request(
            json!([{"op": op, "path": GROUP_EXTENSION, "value": {"schemas": [GROUP_EXTENSION]}}]),
        )
        .apply_to_group(&tour_guides())
        .unwrap();
        assert_eq!(group.to_json()[GROUP_EXTENSION], json!({}), "{op}");
    }
    // Removed when it holds nothing; refused when it holds read-only values.
    let with_empty = request(json!([{"op": "add", "path": USER_EXTENSION, "value": {}}]))
        .apply_to_user(&babs())
        .unwrap();
    let removed = request(json!([{"op": "remove", "path": USER_EXTENSION}]))
        .apply_to_user(&with_empty)
        .unwrap();
    assert_eq!(removed.crosswalk, None);
    assert!(removed.to_json().get(USER_EXTENSION).is_none());
    let verified =
        User::from_json(&json!({"userName": "v", USER_EXTENSION: {"emailVerified": true}}))
            .unwrap();
    let error = request(json!([{"op": "remove", "path": USER_EXTENSION}]))
        .apply_to_user(&verified)
        .unwrap_err();
    assert_eq!(error.scim_type, Some(ScimType::Mutability));
    // A read-only attribute inside it is still refused, whatever else comes along.
    let error = request(json!([{"op": "add", "path": USER_EXTENSION,
        "value": {"schemas": [USER_EXTENSION], "emailVerified": true}}]))
    .apply_to_user(&babs())
    .unwrap_err();
    assert_eq!(error.scim_type, Some(ScimType::Mutability));
}
