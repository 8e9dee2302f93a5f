//! The request sequences Microsoft Entra ID and Okta send, replayed from their documented
//! bodies (`tests/fixtures/`) against a small in-memory service built only from this
//! crate's API, as the server will use it: parse strictly, check, convert to the directory
//! model and back, look up by key, PATCH, project.

use std::collections::HashMap;

use crosswalk_core::Account;
use crosswalk_scim::filter::pushdown::{Lookup, plan};
use crosswalk_scim::{
    CompiledFilter, GROUP, Group, GroupExtras, ListQuery, ListResponse, PatchRequest, Projection,
    QueryLimits, ScimError, ScimType, USER, User, UserExtras, parse_strict,
};
use serde_json::{Value, json};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn patch(name: &str) -> PatchRequest {
    PatchRequest::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

/// Users and groups as a service would keep them: the directory model plus SCIM extras.
#[derive(Default)]
struct Service {
    users: Vec<(Account, UserExtras)>,
    groups: Vec<(crosswalk_core::Group, GroupExtras)>,
    next_id: u32,
}

impl Service {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("id-{}", self.next_id)
    }

    fn user(&self, id: &str) -> User {
        let (account, extras) = self.users.iter().find(|(a, _)| a.id == id).expect("user");
        User::from_account(account, extras)
    }

    /// `POST /Users`: a duplicate userName (case ignored) is a 409.
    fn create_user(&mut self, body: &[u8]) -> Result<User, ScimError> {
        let mut user = User::from_json(&parse_strict(body)?)?;
        user.check_write()?;
        let key = Lookup::UserName(user.user_name.as_deref().unwrap_or_default().to_string());
        if !self.find_users(&key).is_empty() {
            return Err(ScimError::uniqueness(format!(
                "userName {:?} is taken",
                user.user_name.unwrap_or_default()
            )));
        }
        user.id = Some(self.new_id().into());
        let (account, extras) = user.into_account()?;
        let id = account.id.to_string();
        self.users.push((account, extras));
        Ok(self.user(&id))
    }

    /// `PUT /Users/{id}`: the body replaces every writable attribute.
    fn replace_user(&mut self, id: &str, body: &[u8]) -> Result<User, ScimError> {
        let mut user = User::from_json(&parse_strict(body)?)?;
        user.check_write()?;
        user.id = Some(id.into());
        let (account, extras) = user.into_account()?;
        let slot = self
            .users
            .iter_mut()
            .find(|(a, _)| a.id == id)
            .expect("user");
        *slot = (account, extras);
        Ok(self.user(id))
    }

    fn patch_user(&mut self, id: &str, request: &PatchRequest) -> Result<User, ScimError> {
        let patched = request.apply_to_user(&self.user(id))?;
        let (account, extras) = patched.into_account()?;
        let slot = self
            .users
            .iter_mut()
            .find(|(a, _)| a.id == id)
            .expect("user");
        *slot = (account, extras);
        Ok(self.user(id))
    }

    /// An index look-up, as a store would do it: keys compared in [`Lookup::key`] form.
    fn find_users(&self, lookup: &Lookup) -> Vec<User> {
        let key = lookup.key();
        let fold = |text: &str| crosswalk_scim::filter::fold_case(text).into_owned();
        self.users
            .iter()
            .map(|(account, extras)| User::from_account(account, extras))
            .filter(|user| match lookup {
                Lookup::Id(_) => user.id.as_deref() == Some(&key),
                Lookup::ExternalId(_) => user.external_id.as_deref() == Some(&key),
                Lookup::UserName(_) => user.user_name.as_deref().map(fold).as_deref() == Some(&key),
                Lookup::Email { email_type, .. } => user.emails.iter().any(|e| {
                    fold(&e.value) == key
                        && email_type
                            .as_deref()
                            .is_none_or(|t| e.email_type.as_deref().map(fold) == Some(fold(t)))
                }),
                Lookup::DisplayName(_) => {
                    user.display_name.as_deref().map(fold).as_deref() == Some(&key)
                }
                Lookup::Member(_) => false,
            })
            .collect()
    }

    /// `GET /Users?filter=...`: by key when the filter allows it, else by scan.
    fn list_users(&self, params: &[(&str, &str)]) -> Result<ListResponse<Value>, ScimError> {
        let query = ListQuery::from_params(params.iter().copied(), &USER, QueryLimits::default())?;
        let candidates: Vec<User> = match query.filter.as_ref().and_then(plan) {
            Some(plan) => plan
                .lookups
                .iter()
                .flat_map(|lookup| self.find_users(lookup))
                .collect(),
            None => self
                .users
                .iter()
                .map(|(a, e)| User::from_account(a, e))
                .collect(),
        };
        let mut found: Vec<Value> = candidates
            .iter()
            .map(User::to_json)
            .filter(|json| query.matches(json))
            .collect();
        found.sort_by(|a, b| query.compare(a, b));
        found.dedup_by(|a, b| a["id"] == b["id"]);
        let total = found.len() as u64;
        let range = query.page.range(total);
        let mut page: Vec<Value> = found
            .drain(range.start as usize..range.end as usize)
            .collect();
        for resource in &mut page {
            query.projection.apply(resource, &USER);
        }
        let start = match query.page {
            crosswalk_scim::Page::Index { start_index, .. } => start_index,
            crosswalk_scim::Page::Cursor { .. } => 1,
        };
        Ok(ListResponse::new(page, total, start))
    }

    fn create_group(&mut self, body: &[u8]) -> Result<Group, ScimError> {
        let mut group = Group::from_json(&parse_strict(body)?)?;
        group.check_write()?;
        group.id = Some(self.new_id().into());
        let (group, extras) = group.into_group()?;
        let id = group.id.to_string();
        self.groups.push((group, extras));
        Ok(self.group(&id))
    }

    fn group(&self, id: &str) -> Group {
        let (group, extras) = self.groups.iter().find(|(g, _)| g.id == id).expect("group");
        Group::from_group(group, extras)
    }

    fn patch_group(&mut self, id: &str, request: &PatchRequest) -> Result<Group, ScimError> {
        let patched = request.apply_to_group(&self.group(id))?;
        let (group, extras) = patched.into_group()?;
        let slot = self
            .groups
            .iter_mut()
            .find(|(g, _)| g.id == id)
            .expect("group");
        *slot = (group, extras);
        Ok(self.group(id))
    }

    fn members(&self, id: &str) -> Vec<String> {
        self.group(id)
            .members
            .iter()
            .map(|m| m.value.to_string())
            .collect()
    }
}

fn work_email(user: &User) -> Option<&str> {
    user.emails
        .iter()
        .find(|e| e.email_type.as_deref() == Some("work"))
        .map(|e| e.value.as_str())
}

#[test]
fn entra_test_connection_create_lookup_update_and_disable() {
    let mut service = Service::default();
    // Test Connection: a random GUID as the matching attribute; 200 with an empty list.
    let empty = service
        .list_users(&[(
            "filter",
            "userName eq \"b9a1bd6e-0a2f-4c38-9d36-96c1f50c8fd1\"",
        )])
        .unwrap();
    assert_eq!(serde_json::to_value(&empty).unwrap()["totalResults"], 0);

    let created = service
        .create_user(&fixture("entra/create-user.json"))
        .unwrap();
    let id = created.id.clone().unwrap().to_string();
    assert_eq!(
        created.external_id.as_deref(),
        Some("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef")
    );
    assert_eq!(
        created.name.as_ref().unwrap().formatted.as_deref(),
        Some("givenName familyName")
    );
    assert_eq!(
        work_email(&created),
        Some("Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com")
    );
    assert_eq!(created.active, Some(true));

    // Entra matches by userName, by work address or by externalId before it creates.
    for filter in [
        "userName eq \"TEST_USER_00aa00aa-bb11-cc22-dd33-44ee44ee44ee\"",
        "emails[type eq \"work\"].value eq \"test_user_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@TESTUSER.com\"",
        "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"",
        "userName eq \"Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee\" and active eq true",
    ] {
        let page = service.list_users(&[("filter", filter)]).unwrap();
        assert_eq!(page.total_results, 1, "{filter}");
        assert_eq!(page.resources[0]["id"], id.as_str());
    }
    // externalId is caseExact.
    assert_eq!(
        service
            .list_users(&[(
                "filter",
                "externalId eq \"0A21F0F2-8D2A-4F8E-BF98-7363C4AED4EF\""
            )])
            .unwrap()
            .total_results,
        0
    );
    // A second create with the same userName, in another case, is a 409 uniqueness.
    let shouted = String::from_utf8(fixture("entra/create-user.json"))
        .unwrap()
        .replace("Test_User_00aa00aa", "TEST_USER_00AA00AA");
    let conflict = service.create_user(shouted.as_bytes()).unwrap_err();
    assert_eq!(
        (conflict.status, conflict.scim_type),
        (409, Some(ScimType::Uniqueness))
    );
    assert_eq!(
        serde_json::to_value(conflict.body()).unwrap()["status"],
        "409"
    );

    let user = service
        .patch_user(&id, &patch("entra/patch-user-multi-valued.json"))
        .unwrap();
    assert_eq!(work_email(&user), Some("updatedEmail@microsoft.com"));
    assert_eq!(
        user.name.as_ref().unwrap().family_name.as_deref(),
        Some("updatedFamilyName")
    );
    assert_eq!(user.emails.len(), 1);
    assert!(user.emails[0].primary);

    let user = service
        .patch_user(&id, &patch("entra/patch-user-single-valued.json"))
        .unwrap();
    assert_eq!(
        user.user_name.as_deref(),
        Some("5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com")
    );

    // Attributes Crosswalk does not store are accepted and dropped.
    let before = service.user(&id);
    let user = service
        .patch_user(
            &id,
            &patch("entra/patch-user-add-single-value-without-flag.json"),
        )
        .unwrap();
    assert_eq!(user, before);
    let user = service
        .patch_user(&id, &patch("entra/patch-user-manager.json"))
        .unwrap();
    assert_eq!(user, before);

    // Disabling, as the flagged and the default (string "False") jobs send it.
    let user = service
        .patch_user(&id, &patch("entra/patch-user-disable-without-flag.json"))
        .unwrap();
    assert_eq!(user.active, Some(false));
    service
        .patch_user(
            &id,
            &PatchRequest::parse(
                br#"{"Operations":[{"op":"Replace","path":"active","value":"True"}]}"#,
            )
            .unwrap(),
        )
        .unwrap();
    let user = service
        .patch_user(&id, &patch("entra/patch-user-disable.json"))
        .unwrap();
    assert_eq!(user.active, Some(false));
    assert!(!service.users[0].0.active, "the account is deactivated");
}

#[test]
fn entra_replaces_many_attributes_in_both_of_its_modes() {
    for (fixture_name, display, email, given, family) in [
        (
            "entra/patch-user-replace-multiple-without-flag.json",
            "Pvlo",
            "TestBcwqnm@test.microsoft.com",
            "Gtfd",
            "Pkqf",
        ),
        (
            "entra/patch-user-replace-multiple-with-flag.json",
            "Bjfe",
            "TestMhvaes@test.microsoft.com",
            "Kkom",
            "Unua",
        ),
    ] {
        let mut service = Service::default();
        let id = service
            .create_user(&fixture("entra/create-user.json"))
            .unwrap()
            .id
            .unwrap()
            .to_string();
        let user = service.patch_user(&id, &patch(fixture_name)).unwrap();
        assert_eq!(
            user.display_name.as_deref(),
            Some(display),
            "{fixture_name}"
        );
        assert_eq!(work_email(&user), Some(email));
        let name = user.name.unwrap();
        assert_eq!(
            (name.given_name.as_deref(), name.family_name.as_deref()),
            (Some(given), Some(family))
        );
        let (account, _) = service.users[0].clone();
        assert_eq!(account.given_name.as_deref(), Some(given));
        assert_eq!(account.email.as_deref(), Some(email));
    }
    let mut service = Service::default();
    let id = service
        .create_user(&fixture("entra/create-user.json"))
        .unwrap()
        .id
        .unwrap()
        .to_string();
    let user = service
        .patch_user(
            &id,
            &patch("entra/patch-user-replace-multiple-without-flag.json"),
        )
        .unwrap();
    assert_eq!(user.external_id.as_deref(), Some("Eqpj"));
}

#[test]
fn entra_adds_a_work_address_to_a_user_without_one() {
    let mut service = Service::default();
    let body = br#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"joe"}"#;
    let id = service.create_user(body).unwrap().id.unwrap().to_string();
    let user = service
        .patch_user(&id, &patch("entra/patch-user-add-work-email.json"))
        .unwrap();
    assert_eq!(work_email(&user), Some("******@joe.com"));
    assert_eq!(service.users[0].0.email.as_deref(), Some("******@joe.com"));
    // Sent again (Entra repeats it each cycle), it changes the address, not the count.
    let user = service
        .patch_user(&id, &patch("entra/patch-user-add-work-email.json"))
        .unwrap();
    assert_eq!(user.emails.len(), 1);
}

#[test]
fn entra_creates_with_nulls_and_unknown_attributes() {
    let mut service = Service::default();
    let user = service
        .create_user(&fixture("entra/create-user-with-nulls.json"))
        .unwrap();
    assert_eq!(user.display_name.as_deref(), Some("Joy Young"));
    assert_eq!(
        work_email(&user),
        Some("jyoung@Contoso.com"),
        "stored as sent"
    );
    let page = service
        .list_users(&[(
            "filter",
            "emails[type eq \"work\"].value eq \"jyoung@contoso.com\"",
        )])
        .unwrap();
    assert_eq!(page.total_results, 1);
}

#[test]
fn entra_group_lifecycle() {
    let mut service = Service::default();
    let group = service
        .create_group(&fixture("entra/create-group.json"))
        .unwrap();
    let id = group.id.clone().unwrap().to_string();
    assert_eq!(
        group.external_id.as_deref(),
        Some("8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159")
    );
    assert!(group.members.is_empty());

    // Groups are matched by displayName, members left out.
    let filter = CompiledFilter::parse("displayName eq \"DISPLAYNAME\"", &GROUP).unwrap();
    assert_eq!(
        plan(&filter).unwrap().lookups,
        vec![Lookup::DisplayName("DISPLAYNAME".into())]
    );
    let mut json = service.group(&id).to_json();
    assert!(filter.matches(&json));
    Projection::parse(None, Some("members"), &GROUP)
        .unwrap()
        .apply(&mut json, &GROUP);
    assert!(json.get("members").is_none());
    assert_eq!(json["displayName"], "displayName");

    service
        .patch_group(&id, &patch("entra/patch-group-display-name.json"))
        .unwrap();
    assert_eq!(
        service.group(&id).display_name.as_deref(),
        Some("1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName")
    );

    service
        .patch_group(&id, &patch("entra/patch-group-add-members.json"))
        .unwrap();
    assert_eq!(service.members(&id), ["f648f8d5ea4e4cd38e9c"]);
    // Added twice: still one membership.
    service
        .patch_group(&id, &patch("entra/patch-group-add-members.json"))
        .unwrap();
    assert_eq!(service.members(&id), ["f648f8d5ea4e4cd38e9c"]);
    let add_others = PatchRequest::parse(
        br#"{"Operations":[{"op":"Add","path":"members","value":[{"value":"u1091"},{"value":"7f4bc1a3-285e-48ae-8202-5accb43efb0e"}]}]}"#,
    )
    .unwrap();
    service.patch_group(&id, &add_others).unwrap();

    // Entra's default removal: path "members" and a value array removes only those listed.
    service
        .patch_group(&id, &patch("entra/patch-group-remove-members.json"))
        .unwrap();
    assert_eq!(
        service.members(&id),
        ["u1091", "7f4bc1a3-285e-48ae-8202-5accb43efb0e"]
    );
    service
        .patch_group(
            &id,
            &patch("entra/patch-group-remove-member-without-flag.json"),
        )
        .unwrap();
    assert_eq!(
        service.members(&id),
        ["7f4bc1a3-285e-48ae-8202-5accb43efb0e"]
    );
    // The flagged job's removal, by value filter; and again, when it is already gone.
    service
        .patch_group(
            &id,
            &patch("entra/patch-group-remove-member-with-flag.json"),
        )
        .unwrap();
    assert!(service.members(&id).is_empty());
    service
        .patch_group(
            &id,
            &patch("entra/patch-group-remove-member-with-flag.json"),
        )
        .unwrap();
}

#[test]
fn okta_lookup_create_put_and_deactivate() {
    let mut service = Service::default();
    let params = [
        ("filter", "userName eq \"test.user@okta.local\""),
        ("startIndex", "1"),
        ("count", "100"),
    ];
    let empty = serde_json::to_value(service.list_users(&params).unwrap()).unwrap();
    assert_eq!(
        empty,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": []
        })
    );

    let created = service
        .create_user(&fixture("okta/create-user.json"))
        .unwrap();
    let id = created.id.clone().unwrap().to_string();
    assert_eq!(created.external_id.as_deref(), Some("00ujl29u0le5T6Aj10h7"));
    let json = created.to_json();
    assert!(
        json.get("password").is_none() && json.get("locale").is_none(),
        "{json}"
    );
    let found = service.list_users(&params).unwrap();
    assert_eq!(
        (found.total_results, found.resources[0]["id"].as_str()),
        (1, Some(id.as_str()))
    );
    // Okta's duplicate POST must get a 409.
    assert_eq!(
        service
            .create_user(&fixture("okta/create-user.json"))
            .unwrap_err()
            .status,
        409
    );

    // Okta's custom apps update with PUT; read-only groups and meta in the body are ignored.
    let put = String::from_utf8(fixture("okta/put-user.json"))
        .unwrap()
        .replace("23a35c27-23d3-4c03-b4c5-6443c09e7173", &id);
    let user = service.replace_user(&id, put.as_bytes()).unwrap();
    assert_eq!(
        user.name.as_ref().unwrap().given_name.as_deref(),
        Some("Another")
    );
    assert_eq!(
        user.external_id, None,
        "a PUT replaces: the body had no externalId"
    );
    assert!(user.groups.is_empty());

    let user = service
        .patch_user(&id, &patch("okta/patch-user-deactivate.json"))
        .unwrap();
    assert_eq!(user.active, Some(false));
}

#[test]
fn okta_group_push() {
    let mut service = Service::default();
    let id = service
        .create_group(&fixture("okta/create-group.json"))
        .unwrap()
        .id
        .unwrap()
        .to_string();
    // Okta's rename sends the group's id along: the same id is not a change...
    let rename = String::from_utf8(fixture("okta/patch-group-rename.json")).unwrap();
    let renamed = service.patch_group(
        &id,
        &PatchRequest::parse(
            rename
                .replace("abf4dd94-a4c0-4f67-89c9-76b03340cb9b", &id)
                .as_bytes(),
        )
        .unwrap(),
    );
    assert_eq!(
        renamed.unwrap().display_name.as_deref(),
        Some("Test SCIMv2")
    );
    // ...another id is.
    let error = service
        .patch_group(&id, &patch("okta/patch-group-rename.json"))
        .unwrap_err();
    assert_eq!(error.scim_type, Some(ScimType::Mutability));

    service
        .patch_group(&id, &patch("okta/patch-group-replace-members.json"))
        .unwrap();
    assert_eq!(
        service.members(&id),
        [
            "23a35c27-23d3-4c03-b4c5-6443c09e7173",
            "89bb1940-b905-4575-9e7f-6f887cfb368e"
        ]
    );
    // Remove one by filter and add one (already there): the other goes, no duplicate.
    service
        .patch_group(&id, &patch("okta/patch-group-members.json"))
        .unwrap();
    assert_eq!(
        service.members(&id),
        ["23a35c27-23d3-4c03-b4c5-6443c09e7173"]
    );
    // `display` is read-only: echoed by Okta, not stored.
    assert_eq!(service.group(&id).members[0].display, None);
}

#[test]
fn every_fixture_parses() {
    let directory = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut seen = HashMap::new();
    for provider in ["entra", "okta"] {
        for entry in std::fs::read_dir(format!("{directory}/{provider}")).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let body = std::fs::read(&path).unwrap();
            let parsed = if name.starts_with("patch-") {
                PatchRequest::parse(&body).map(|_| ())
            } else if name.contains("group") {
                Group::from_json(&parse_strict(&body).unwrap())
                    .map(|_| ())
                    .map_err(ScimError::from)
            } else {
                User::from_json(&parse_strict(&body).unwrap())
                    .map(|_| ())
                    .map_err(ScimError::from)
            };
            assert!(parsed.is_ok(), "{provider}/{name}: {parsed:?}");
            seen.insert(format!("{provider}/{name}"), ());
        }
    }
    assert_eq!(seen.len(), 24, "every fixture is read: {seen:?}");
}
