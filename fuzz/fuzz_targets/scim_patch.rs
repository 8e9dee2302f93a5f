//! The SCIM PATCH parser and applier on arbitrary bytes: no panic, and whatever PATCH
//! produces reads back as the same resource.
#![no_main]

use crosswalk_scim::{Group, PatchPath, PatchRequest, User};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = PatchPath::parse(&String::from_utf8_lossy(data));
    let Ok(request) = PatchRequest::parse(data) else { return };
    let user = User::from_json(&serde_json::json!({
        "id": "u1", "userName": "bjensen", "externalId": "b",
        "emails": [{"value": "b@example.com", "type": "work", "primary": true}, {"value": "h@example.com", "type": "home"}],
        "active": true, "meta": {"resourceType": "User"}
    }))
    .unwrap();
    if let Ok(patched) = request.apply_to_user(&user) {
        assert_eq!(User::from_json(&patched.to_json()).ok().map(|u| u.emails), Some(patched.emails.clone()));
        assert!(patched.emails.iter().filter(|e| e.primary).count() <= 1);
    }
    let group = Group::from_json(&serde_json::json!({
        "id": "g1", "displayName": "G", "members": [{"value": "u1"}, {"value": "u2"}]
    }))
    .unwrap();
    if let Ok(patched) = request.apply_to_group(&group) {
        assert_eq!(Group::from_json(&patched.to_json()).ok().map(|g| g.members), Some(patched.members.clone()));
    }
});
