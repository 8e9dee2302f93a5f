//! The key forms a look-up understands. An `identity:user` mapping is found by its source
//! id, its username, any of its addresses, and the platform-prefixed forms migration apps
//! send (`jira.userkey/…`, `jira.username/…`, `confluence.userkey/…`, `email/…`). Only the
//! plain alternate keys are stored; prefixed forms are translated when a look-up is made,
//! so adding a prefix never needs a rewrite of stored data.

use super::model::{IdentityValue, KeyForm, SourcePlatform};

/// Which stored alternate key a form is looked up in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AltKind {
    SourceKey,
    Username,
    Email,
}

impl AltKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AltKind::SourceKey => "source_key",
            AltKind::Username => "username",
            AltKind::Email => "email",
        }
    }

    pub fn form(self) -> KeyForm {
        match self {
            AltKind::SourceKey => KeyForm::SourceKey,
            AltKind::Username => KeyForm::Username,
            AltKind::Email => KeyForm::Email,
        }
    }
}

/// Usernames and addresses are compared case-insensitively on these platforms; source keys
/// (ids) are exact.
pub fn normalize(kind: AltKind, key: &str) -> String {
    match kind {
        AltKind::SourceKey => key.to_string(),
        AltKind::Username | AltKind::Email => key.trim().to_lowercase(),
    }
}

/// The alternate keys (username, each address) of an identity:user mapping, normalised,
/// without repeats. The source key itself is the mapping's key and not repeated here.
pub fn alternate_keys(value: &IdentityValue) -> Vec<(AltKind, String)> {
    let mut keys: Vec<(AltKind, String)> = Vec::new();
    let mut push = |kind: AltKind, key: &str| {
        let key = normalize(kind, key);
        if !key.is_empty()
            && !keys
                .iter()
                .any(|(k, existing)| *k == kind && *existing == key)
        {
            keys.push((kind, key));
        }
    };
    push(AltKind::Username, &value.source.username);
    for email in &value.source_emails {
        push(AltKind::Email, email);
    }
    keys
}

/// The prefixes a scope's source platform uses, and what each names.
pub fn prefixes(platform: SourcePlatform) -> &'static [(&'static str, AltKind)] {
    match platform {
        SourcePlatform::Jira => &[
            ("jira.userkey/", AltKind::SourceKey),
            ("jira.username/", AltKind::Username),
            ("email/", AltKind::Email),
        ],
        SourcePlatform::Confluence => &[
            ("confluence.userkey/", AltKind::SourceKey),
            ("email/", AltKind::Email),
        ],
        SourcePlatform::Other => &[("email/", AltKind::Email)],
    }
}

/// How to look a key up: each (stored key kind, normalised key) to try in order, and the
/// form to report when it is found that way. A key with one of the platform's prefixes is
/// looked up in what the prefix names only; a plain key as a source key, then a username,
/// then an address.
pub fn lookup_plan(platform: SourcePlatform, key: &str) -> Vec<(AltKind, String, KeyForm)> {
    for (prefix, kind) in prefixes(platform) {
        if let Some(rest) = key.strip_prefix(prefix) {
            let form = KeyForm::Prefixed {
                prefix: prefix.trim_end_matches('/').to_string(),
                names: Box::new(kind.form()),
            };
            return vec![(*kind, normalize(*kind, rest), form)];
        }
    }
    [AltKind::SourceKey, AltKind::Username, AltKind::Email]
        .into_iter()
        .map(|kind| (kind, normalize(kind, key), kind.form()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_follow_the_source_platform() {
        let plan = lookup_plan(SourcePlatform::Jira, "jira.userkey/JIRAUSER10042");
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].0, AltKind::SourceKey);
        assert_eq!(plan[0].1, "JIRAUSER10042");
        // A Confluence scope does not read Jira's prefix: the whole text is a plain key.
        let plan = lookup_plan(SourcePlatform::Confluence, "jira.userkey/JIRAUSER10042");
        assert_eq!(plan.len(), 3);
        assert_eq!(plan[0].1, "jira.userkey/JIRAUSER10042");
        let plan = lookup_plan(SourcePlatform::Other, "email/Ann@Example.COM");
        assert_eq!(
            (plan[0].0, plan[0].1.as_str()),
            (AltKind::Email, "ann@example.com")
        );
    }
}
