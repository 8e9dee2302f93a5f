//! Content references: who created, modified, owns, commented on, is mentioned in or is
//! assigned an item in a container (a space, project or drive), and who holds a permission
//! on the container.

use crosswalk_core::{CompactString, IdentityKind};
use serde::{Deserialize, Serialize};

/// How an identity is tied to content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Creator,
    Modifier,
    Owner,
    Commenter,
    Mentioned,
    Assignee,
    /// Holds a permission on the container itself (no item).
    Permission,
}

impl Role {
    pub const ALL: [Role; 7] =
        [Role::Creator, Role::Modifier, Role::Owner, Role::Commenter, Role::Mentioned, Role::Assignee, Role::Permission];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Creator => "creator",
            Role::Modifier => "modifier",
            Role::Owner => "owner",
            Role::Commenter => "commenter",
            Role::Mentioned => "mentioned",
            Role::Assignee => "assignee",
            Role::Permission => "permission",
        }
    }

    /// Reads a role as files spell it (case and surrounding space ignored, a few synonyms).
    pub fn parse(text: &str) -> Option<Role> {
        match text.trim().to_ascii_lowercase().as_str() {
            "creator" | "created" | "author" => Some(Role::Creator),
            "modifier" | "modified" | "editor" | "last_modifier" => Some(Role::Modifier),
            "owner" | "owns" => Some(Role::Owner),
            "commenter" | "commented" | "comment" => Some(Role::Commenter),
            "mentioned" | "mention" => Some(Role::Mentioned),
            "assignee" | "assigned" => Some(Role::Assignee),
            "permission" | "permitted" | "grant" => Some(Role::Permission),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One tie between an identity and content. A container permission has no item; a group
/// can hold a permission (its members are then related to the container through it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reference {
    /// Space, project or drive key.
    pub container: CompactString,
    /// The item's id inside the container; `None` for a permission on the container.
    pub item: Option<CompactString>,
    pub role: Role,
    pub kind: IdentityKind,
    /// The identity's id in the source directory (account id or group id).
    pub identity: CompactString,
}

impl Reference {
    pub fn account(container: &str, item: Option<&str>, role: Role, identity: &str) -> Reference {
        Reference { container: container.into(), item: item.map(Into::into), role, kind: IdentityKind::Account, identity: identity.into() }
    }

    pub fn group_permission(container: &str, group: &str) -> Reference {
        Reference { container: container.into(), item: None, role: Role::Permission, kind: IdentityKind::Group, identity: group.into() }
    }
}
