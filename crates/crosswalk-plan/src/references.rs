//! Content references: who created, last modified, owns, commented on, is mentioned in, is
//! assigned, reported or watches an item in a container (a space, project or drive), and who
//! holds a permission on an item or on the container.

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
    Reporter,
    Watcher,
    /// Holds a permission on the container itself (no item) or on one item.
    Permission,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Creator,
        Role::Modifier,
        Role::Owner,
        Role::Commenter,
        Role::Mentioned,
        Role::Assignee,
        Role::Reporter,
        Role::Watcher,
        Role::Permission,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Creator => "creator",
            Role::Modifier => "modifier",
            Role::Owner => "owner",
            Role::Commenter => "commenter",
            Role::Mentioned => "mentioned",
            Role::Assignee => "assignee",
            Role::Reporter => "reporter",
            Role::Watcher => "watcher",
            Role::Permission => "permission",
        }
    }

    /// Reads a role as files spell it (case and surrounding space ignored, a few synonyms).
    pub fn parse(text: &str) -> Option<Role> {
        match text
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")
            .as_str()
        {
            "creator" | "created" | "author" => Some(Role::Creator),
            "modifier" | "modified" | "editor" | "last_modifier" | "last_modified_by" => {
                Some(Role::Modifier)
            }
            "owner" | "owns" => Some(Role::Owner),
            "commenter" | "commented" | "comment" => Some(Role::Commenter),
            "mentioned" | "mention" => Some(Role::Mentioned),
            "assignee" | "assigned" => Some(Role::Assignee),
            "reporter" | "reported" => Some(Role::Reporter),
            "watcher" | "watching" | "watches" => Some(Role::Watcher),
            "permission" | "permitted" | "grant" | "permission_holder" | "holder" => {
                Some(Role::Permission)
            }
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
    /// The identity as the content names it: its source id, or (accounts) its username or
    /// an address; the store resolves each form to the identity's mapping.
    pub identity: CompactString,
    /// What the item is and says, for people reading the affected items (all optional).
    pub details: ItemDetails,
    /// For a permission: how many permissions it stands for (1 when not given); 0 otherwise.
    pub permissions: u32,
}

/// What an item is, beyond its id: shown with the affected items, never matched on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ItemDetails {
    /// `space`, `project`, `drive`... (free text).
    pub container_type: CompactString,
    /// `page`, `issue`, `file`, `folder`, `attachment`, `comment`... (free text).
    pub item_type: CompactString,
    /// The item's title or path.
    pub title: CompactString,
}

impl Reference {
    pub fn account(container: &str, item: Option<&str>, role: Role, identity: &str) -> Reference {
        Reference {
            container: container.into(),
            item: item.map(Into::into),
            role,
            kind: IdentityKind::Account,
            identity: identity.into(),
            details: ItemDetails::default(),
            permissions: u32::from(role == Role::Permission),
        }
    }

    pub fn group_permission(container: &str, group: &str) -> Reference {
        Reference {
            container: container.into(),
            item: None,
            role: Role::Permission,
            kind: IdentityKind::Group,
            identity: group.into(),
            details: ItemDetails::default(),
            permissions: 1,
        }
    }
}
