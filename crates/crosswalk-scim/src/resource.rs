//! Typed SCIM resources: [`User`] and [`Group`] with the attributes Crosswalk stores, their
//! JSON form, and conversions to and from the directory model ([`crosswalk_core::Account`],
//! [`crosswalk_core::Group`]).
//!
//! Reading ([`User::from_json`]) follows SCIM's rules: attribute names ignore case (two
//! spellings of one name are an error), `null` is the same as absent, unknown attributes
//! are ignored, read-only ones (`groups`, most of `meta`) are not taken from a request,
//! and a known attribute of the wrong JSON type is an error located by JSON pointer.
//! Booleans may be the strings `"True"`/`"False"`, as Entra ID sends them.
//!
//! An [`Account`] holds less than a SCIM User says: the SCIM-only part (`externalId`,
//! `name.formatted`, each address's `type`, which address was marked primary, whether
//! `active` was given) is [`UserExtras`], which a service stores beside the account so that
//! `User → (Account, UserExtras) → User` gives back what was sent.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crosswalk_core::{Account, CompactString};

use crate::json::{
    AttributeError, expected, find, objects_in, opt_array, opt_bool, opt_object, opt_str, pointer,
    quoted, required_str,
};
use crate::schema::{
    CROSSWALK_GROUP_EXTENSION, CROSSWALK_USER_EXTENSION, GROUP_SCHEMA_ID, USER_SCHEMA_ID,
};

fn text(value: Option<&str>) -> Option<CompactString> {
    value.map(CompactString::from)
}

/// Resource metadata (RFC 7643 §3.1), assigned by the service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Meta {
    #[serde(rename = "resourceType", skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<CompactString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(rename = "lastModified", skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The ETag, e.g. `W/"3694e05e9dff591"` (see [`crate::etag`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl Meta {
    fn of(resource_type: &str) -> Meta {
        Meta {
            resource_type: Some(resource_type.into()),
            ..Meta::default()
        }
    }

    /// `meta` is read-only: only `resourceType` is checked (it tells a User from a Group);
    /// the rest is kept when it is a string, as a client echoing a resource sends it.
    fn from_json(attr: crate::json::Attr<'_>) -> Result<Option<Meta>, AttributeError> {
        let Some((at, object)) = opt_object(attr, "")? else {
            return Ok(None);
        };
        let string = |name: &str| {
            object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str())
                .map(str::to_string)
        };
        Ok(Some(Meta {
            resource_type: text(opt_str(find(object, "resourceType", &at)?, &at)?),
            created: string("created"),
            last_modified: string("lastModified"),
            location: string("location"),
            version: string("version"),
        }))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Name {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted: Option<CompactString>,
    #[serde(rename = "familyName", skip_serializing_if = "Option::is_none")]
    pub family_name: Option<CompactString>,
    #[serde(rename = "givenName", skip_serializing_if = "Option::is_none")]
    pub given_name: Option<CompactString>,
}

impl Name {
    fn is_empty(&self) -> bool {
        self.formatted.is_none() && self.family_name.is_none() && self.given_name.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email {
    pub value: CompactString,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub email_type: Option<CompactString>,
    pub primary: bool,
}

/// A group the user is in (`User.groups`, read-only: the service fills it in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupRef {
    pub value: CompactString,
    #[serde(rename = "$ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<CompactString>,
    /// `direct` or `indirect`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub membership: Option<CompactString>,
}

/// Crosswalk's User extension ([`CROSSWALK_USER_EXTENSION`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CrosswalkUser {
    #[serde(rename = "sourceDirectory", skip_serializing_if = "Option::is_none")]
    pub source_directory: Option<CompactString>,
    #[serde(rename = "emailVerified", skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

/// A SCIM User (RFC 7643 §4.1), as far as Crosswalk stores it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    /// Assigned by the service; absent in a create request.
    pub id: Option<CompactString>,
    pub external_id: Option<CompactString>,
    pub user_name: Option<CompactString>,
    pub name: Option<Name>,
    pub display_name: Option<CompactString>,
    pub emails: Vec<Email>,
    /// `None` when not given (Crosswalk treats the account as active).
    pub active: Option<bool>,
    /// Read-only: filled in by the service, never read from a request.
    pub groups: Vec<GroupRef>,
    pub crosswalk: Option<CrosswalkUser>,
    pub meta: Option<Meta>,
}

impl Serialize for User {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            schemas: &'static [&'static str],
            #[serde(skip_serializing_if = "Option::is_none")]
            id: &'a Option<CompactString>,
            #[serde(rename = "externalId", skip_serializing_if = "Option::is_none")]
            external_id: &'a Option<CompactString>,
            #[serde(rename = "userName", skip_serializing_if = "Option::is_none")]
            user_name: &'a Option<CompactString>,
            #[serde(skip_serializing_if = "Option::is_none")]
            name: Option<&'a Name>,
            #[serde(rename = "displayName", skip_serializing_if = "Option::is_none")]
            display_name: &'a Option<CompactString>,
            #[serde(skip_serializing_if = "<[Email]>::is_empty")]
            emails: &'a [Email],
            #[serde(skip_serializing_if = "Option::is_none")]
            active: &'a Option<bool>,
            #[serde(skip_serializing_if = "<[GroupRef]>::is_empty")]
            groups: &'a [GroupRef],
            #[serde(
                rename = "urn:crosswalk:params:scim:schemas:extension:2.0:User",
                skip_serializing_if = "Option::is_none"
            )]
            crosswalk: Option<&'a CrosswalkUser>,
            #[serde(skip_serializing_if = "Option::is_none")]
            meta: &'a Option<Meta>,
        }
        // An extension object that is there is written, empty or not, so that a User reads
        // back as it was given (`from_account` leaves out one that would be empty).
        let crosswalk = self.crosswalk.as_ref();
        Out {
            schemas: if crosswalk.is_some() {
                &[USER_SCHEMA_ID, CROSSWALK_USER_EXTENSION]
            } else {
                &[USER_SCHEMA_ID]
            },
            id: &self.id,
            external_id: &self.external_id,
            user_name: &self.user_name,
            name: self.name.as_ref().filter(|n| !n.is_empty()),
            display_name: &self.display_name,
            emails: &self.emails,
            active: &self.active,
            groups: &self.groups,
            crosswalk,
            meta: &self.meta,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for User {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        User::from_json(&value).map_err(serde::de::Error::custom)
    }
}

fn root<'v>(value: &'v Value, what: &str) -> Result<&'v Map<String, Value>, AttributeError> {
    value
        .as_object()
        .ok_or_else(|| AttributeError::new("", expected(what, value)))
}

impl User {
    /// Reads a User from its JSON (a request body, a line of an export). Checks types, not
    /// presence: which attributes must be there depends on the use ([`User::check_write`]
    /// for a create or replace, [`User::into_account`] for an import).
    pub fn from_json(value: &Value) -> Result<User, AttributeError> {
        let object = root(value, "a SCIM User (a JSON object)")?;
        let id = opt_str(find(object, "id", "")?, "")?;
        let external_id = opt_str(find(object, "externalId", "")?, "")?;
        let user_name = opt_str(find(object, "userName", "")?, "")?;
        let name = match opt_object(find(object, "name", "")?, "")? {
            Some((at, name)) => Some(Name {
                formatted: text(opt_str(find(name, "formatted", &at)?, &at)?),
                family_name: text(opt_str(find(name, "familyName", &at)?, &at)?),
                given_name: text(opt_str(find(name, "givenName", &at)?, &at)?),
            }),
            None => None,
        };
        let display_name = opt_str(find(object, "displayName", "")?, "")?;
        let mut emails = Vec::new();
        if let Some((at, items)) = opt_array(find(object, "emails", "")?, "")? {
            emails.reserve(items.len());
            for entry in objects_in(&at, items, "an object with a \"value\"") {
                let (entry_at, entry) = entry?;
                emails.push(Email {
                    value: required_str(find(entry, "value", &entry_at)?, &entry_at, "value")?
                        .into(),
                    email_type: text(opt_str(find(entry, "type", &entry_at)?, &entry_at)?),
                    primary: opt_bool(find(entry, "primary", &entry_at)?, &entry_at)?
                        .unwrap_or(false),
                });
            }
        }
        let active = opt_bool(find(object, "active", "")?, "")?;
        let crosswalk = match opt_object(find(object, CROSSWALK_USER_EXTENSION, "")?, "")? {
            Some((at, extension)) => Some(CrosswalkUser {
                source_directory: text(opt_str(find(extension, "sourceDirectory", &at)?, &at)?),
                email_verified: opt_bool(find(extension, "emailVerified", &at)?, &at)?,
            }),
            None => None,
        };
        let meta = Meta::from_json(find(object, "meta", "")?)?;
        Ok(User {
            id: text(id),
            external_id: text(external_id),
            user_name: text(user_name),
            name,
            display_name: text(display_name),
            emails,
            active,
            groups: Vec::new(),
            crosswalk,
            meta,
        })
    }

    /// The JSON form (what `Serialize` writes).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// What a create (POST) or full replace (PUT) must hold: a non-blank `userName` (RFC
    /// 7643 §4.1.1) and at most one address marked primary (§2.4).
    pub fn check_write(&self) -> Result<(), AttributeError> {
        match self.user_name.as_deref() {
            Some(name) if !name.trim().is_empty() => {}
            Some(_) => return Err(AttributeError::new("/userName", "must not be empty")),
            None => return Err(AttributeError::new("/userName", "is required")),
        }
        let primaries: Vec<usize> = self
            .emails
            .iter()
            .enumerate()
            .filter(|(_, e)| e.primary)
            .map(|(i, _)| i)
            .collect();
        if let [_, second, ..] = primaries[..] {
            return Err(AttributeError::new(
                format!("/emails/{second}/primary"),
                "only one address can be primary (RFC 7643 §2.4)",
            ));
        }
        Ok(())
    }

    /// The account this User describes, and what SCIM said beyond it. `id` is required
    /// (an import needs it; a service assigns one before converting). The primary address
    /// is the first marked primary, else the first; the others become aliases, in order.
    pub fn into_account(self) -> Result<(Account, UserExtras), AttributeError> {
        let id = match self.id {
            Some(id) if !id.trim().is_empty() => id,
            Some(_) => return Err(AttributeError::new("/id", "must not be empty")),
            None => return Err(AttributeError::new("/id", "is required")),
        };
        let primary_at = self.emails.iter().position(|e| e.primary);
        let mut addresses = Vec::with_capacity(self.emails.len());
        let mut types = Vec::with_capacity(self.emails.len());
        if let Some(at) = primary_at {
            addresses.push(self.emails[at].value.clone());
            types.push(self.emails[at].email_type.clone());
        }
        for (i, email) in self.emails.into_iter().enumerate() {
            if Some(i) != primary_at {
                addresses.push(email.value);
                types.push(email.email_type);
            }
        }
        let mut addresses = addresses.into_iter();
        let email = addresses.next();
        let (name_formatted, given_name, family_name) = match self.name {
            Some(name) => (name.formatted, name.given_name, name.family_name),
            None => (None, None, None),
        };
        let extension_given = self.crosswalk.is_some();
        let crosswalk = self.crosswalk.unwrap_or_default();
        let account = Account {
            id,
            username: self.user_name,
            email: email.clone(),
            alias_emails: addresses.collect(),
            display_name: self.display_name,
            given_name,
            family_name,
            active: self.active.unwrap_or(true),
            source_directory: crosswalk.source_directory,
            email_verified: crosswalk.email_verified,
        };
        let extras = UserExtras {
            external_id: self.external_id,
            name_formatted,
            email_types: if types.iter().all(Option::is_none) {
                Vec::new()
            } else {
                types
            },
            primary: match primary_at {
                Some(at) => PrimaryEmail::At(u32::try_from(at).unwrap_or(u32::MAX)),
                None if email.is_some() => PrimaryEmail::Unmarked,
                None => PrimaryEmail::default(),
            },
            active_unassigned: self.active.is_none(),
            extension_given,
        };
        Ok((account, extras))
    }

    /// The User for an account and its SCIM extras; `meta` holds only the resource type
    /// and `groups` is empty (the service knows memberships, locations and versions).
    pub fn from_account(account: &Account, extras: &UserExtras) -> User {
        let in_account_order: Vec<Email> = account
            .all_emails()
            .enumerate()
            .map(|(i, value)| Email {
                value: value.into(),
                email_type: extras.email_types.get(i).cloned().flatten(),
                primary: false,
            })
            .collect();
        let mut emails = in_account_order;
        match extras.primary {
            PrimaryEmail::Unmarked => {}
            PrimaryEmail::At(at) if account.email.is_some() => {
                let mut primary = emails.remove(0);
                primary.primary = true;
                emails.insert((at as usize).min(emails.len()), primary);
            }
            PrimaryEmail::At(_) => {}
        }
        let name = Name {
            formatted: extras.name_formatted.clone(),
            family_name: account.family_name.clone(),
            given_name: account.given_name.clone(),
        };
        let crosswalk = CrosswalkUser {
            source_directory: account.source_directory.clone(),
            email_verified: account.email_verified,
        };
        User {
            id: Some(account.id.clone()),
            external_id: extras.external_id.clone(),
            user_name: account.username.clone(),
            name: (!name.is_empty()).then_some(name),
            display_name: account.display_name.clone(),
            emails,
            active: if extras.active_unassigned && account.active {
                None
            } else {
                Some(account.active)
            },
            groups: Vec::new(),
            crosswalk: (crosswalk != CrosswalkUser::default() || extras.extension_given)
                .then_some(crosswalk),
            meta: Some(Meta::of("User")),
        }
    }
}

/// Which address was marked primary in the SCIM `emails` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrimaryEmail {
    /// The account's email was marked primary and stood at this index of the list.
    At(u32),
    /// No address was marked; the account's email is simply the first.
    Unmarked,
}

impl Default for PrimaryEmail {
    /// The account's email, marked primary, first: how an account with no SCIM history
    /// (a migrated one) is shown.
    fn default() -> PrimaryEmail {
        PrimaryEmail::At(0)
    }
}

/// What a SCIM User says that an [`Account`] does not hold. Stored by a service beside the
/// account; the default describes an account that never came through SCIM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserExtras {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_formatted: Option<CompactString>,
    /// The `type` of each address in [`Account::all_emails`] order (primary first); empty
    /// when no address had one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_types: Vec<Option<CompactString>>,
    #[serde(default)]
    pub primary: PrimaryEmail,
    /// `active` was not given (the account counts as active).
    #[serde(default)]
    pub active_unassigned: bool,
    /// Crosswalk's extension object was given (so it is shown even when it holds nothing).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub extension_given: bool,
}

impl UserExtras {
    /// Extras for an account that never came through SCIM, with address types as Entra and
    /// Okta map them: the primary address `work`, the others `other`. So Entra's lookup
    /// `emails[type eq "work"].value eq "..."` finds a migrated account by its address.
    pub fn migrated(account: &Account) -> UserExtras {
        let types = account
            .all_emails()
            .enumerate()
            .map(|(i, _)| {
                Some(CompactString::from(if i == 0 && account.email.is_some() {
                    "work"
                } else {
                    "other"
                }))
            })
            .collect();
        UserExtras {
            email_types: types,
            ..UserExtras::default()
        }
    }
}

// ---------------------------------------------------------------------------------------
// Groups
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// The member's `id` (a User's or a Group's).
    pub value: CompactString,
    #[serde(rename = "$ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<CompactString>,
    /// `User` or `Group`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub member_type: Option<CompactString>,
}

impl Member {
    pub fn new(value: impl Into<CompactString>) -> Member {
        Member {
            value: value.into(),
            reference: None,
            display: None,
            member_type: None,
        }
    }
}

/// Crosswalk's Group extension ([`CROSSWALK_GROUP_EXTENSION`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrosswalkGroup {
    /// `None`: not said. `Some(None)`: the group has no display name. `Some(Some(x))`: `x`.
    pub display_name: Option<Option<CompactString>>,
}

impl Serialize for CrosswalkGroup {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if let Some(display_name) = &self.display_name {
            map.serialize_entry("displayName", display_name)?;
        }
        map.end()
    }
}

/// A SCIM Group (RFC 7643 §4.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    pub id: Option<CompactString>,
    pub external_id: Option<CompactString>,
    /// The group's name (required to create one).
    pub display_name: Option<CompactString>,
    pub members: Vec<Member>,
    pub crosswalk: Option<CrosswalkGroup>,
    pub meta: Option<Meta>,
}

impl Serialize for Group {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            schemas: &'static [&'static str],
            #[serde(skip_serializing_if = "Option::is_none")]
            id: &'a Option<CompactString>,
            #[serde(rename = "externalId", skip_serializing_if = "Option::is_none")]
            external_id: &'a Option<CompactString>,
            #[serde(rename = "displayName", skip_serializing_if = "Option::is_none")]
            display_name: &'a Option<CompactString>,
            members: &'a [Member],
            #[serde(
                rename = "urn:crosswalk:params:scim:schemas:extension:2.0:Group",
                skip_serializing_if = "Option::is_none"
            )]
            crosswalk: Option<&'a CrosswalkGroup>,
            #[serde(skip_serializing_if = "Option::is_none")]
            meta: &'a Option<Meta>,
        }
        // As for a User: an extension object that is there is written, empty or not.
        let crosswalk = self.crosswalk.as_ref();
        Out {
            schemas: if crosswalk.is_some() {
                &[GROUP_SCHEMA_ID, CROSSWALK_GROUP_EXTENSION]
            } else {
                &[GROUP_SCHEMA_ID]
            },
            id: &self.id,
            external_id: &self.external_id,
            display_name: &self.display_name,
            members: &self.members,
            crosswalk,
            meta: &self.meta,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Group {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Group::from_json(&value).map_err(serde::de::Error::custom)
    }
}

impl Group {
    /// Reads a Group from its JSON; checks types, not presence (see [`Group::check_write`]).
    pub fn from_json(value: &Value) -> Result<Group, AttributeError> {
        let object = root(value, "a SCIM Group (a JSON object)")?;
        let id = opt_str(find(object, "id", "")?, "")?;
        let external_id = opt_str(find(object, "externalId", "")?, "")?;
        let display_name = opt_str(find(object, "displayName", "")?, "")?;
        let mut members = Vec::new();
        if let Some((at, items)) = opt_array(find(object, "members", "")?, "")? {
            members.reserve(items.len());
            for entry in objects_in(&at, items, "an object with a \"value\"") {
                let (entry_at, entry) = entry?;
                members.push(Member {
                    value: required_str(find(entry, "value", &entry_at)?, &entry_at, "value")?
                        .into(),
                    reference: opt_str(find(entry, "$ref", &entry_at)?, &entry_at)?
                        .map(str::to_string),
                    display: text(opt_str(find(entry, "display", &entry_at)?, &entry_at)?),
                    member_type: text(opt_str(find(entry, "type", &entry_at)?, &entry_at)?),
                });
            }
        }
        let crosswalk = match opt_object(find(object, CROSSWALK_GROUP_EXTENSION, "")?, "")? {
            // Present-and-null means "no display name", unlike everywhere else where null is absent.
            Some((at, extension)) => Some(CrosswalkGroup {
                display_name: match find(extension, "displayName", &at)? {
                    None => None,
                    Some((_, Value::Null)) => Some(None),
                    Some((_, Value::String(s))) => Some(Some(s.into())),
                    Some((key, other)) => {
                        return Err(AttributeError::new(
                            pointer(&at, key),
                            expected("a string or null", other),
                        ));
                    }
                },
            }),
            None => None,
        };
        let meta = Meta::from_json(find(object, "meta", "")?)?;
        Ok(Group {
            id: text(id),
            external_id: text(external_id),
            display_name: text(display_name),
            members,
            crosswalk,
            meta,
        })
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// What a create or full replace must hold: a non-blank `displayName`.
    pub fn check_write(&self) -> Result<(), AttributeError> {
        match self.display_name.as_deref() {
            Some(name) if !name.trim().is_empty() => Ok(()),
            Some(_) => Err(AttributeError::new("/displayName", "must not be empty")),
            None => Err(AttributeError::new("/displayName", "is required")),
        }
    }

    /// The directory group (members are ids) and what SCIM said beyond it. `id` and a
    /// non-blank `displayName` (the group's name) are required.
    pub fn into_group(self) -> Result<(crosswalk_core::Group, GroupExtras), AttributeError> {
        match self.id.as_deref() {
            Some(id) if !id.trim().is_empty() => {}
            Some(_) => return Err(AttributeError::new("/id", "must not be empty")),
            None => return Err(AttributeError::new("/id", "is required")),
        }
        self.check_write()?;
        let id = self.id.unwrap_or_default();
        let name = self.display_name.unwrap_or_default();
        let extension_given = self.crosswalk.is_some();
        let display_name = match self.crosswalk.and_then(|c| c.display_name) {
            Some(display_name) => display_name,
            None => Some(name.clone()),
        };
        let group = crosswalk_core::Group {
            id,
            name,
            display_name,
            members: self.members.into_iter().map(|m| m.value).collect(),
        };
        Ok((
            group,
            GroupExtras {
                external_id: self.external_id,
                extension_given,
            },
        ))
    }

    /// The Group for a directory group; members carry their ids only (the service adds
    /// `type`, `display` and `$ref`, which it can look up).
    pub fn from_group(group: &crosswalk_core::Group, extras: &GroupExtras) -> Group {
        // A display name that is simply the name is not repeated in the extension.
        let plain = group.display_name.as_deref() == Some(group.name.as_str());
        Group {
            id: Some(group.id.clone()),
            external_id: extras.external_id.clone(),
            display_name: Some(group.name.clone()),
            members: group
                .members
                .iter()
                .map(|m| Member::new(m.clone()))
                .collect(),
            crosswalk: (!plain || extras.extension_given).then(|| CrosswalkGroup {
                display_name: (!plain).then(|| group.display_name.clone()),
            }),
            meta: Some(Meta::of("Group")),
        }
    }
}

/// What a SCIM Group says that a directory group does not hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupExtras {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<CompactString>,
    /// Crosswalk's extension object was given (so it is shown even when it holds nothing).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub extension_given: bool,
}

// ---------------------------------------------------------------------------------------
// Telling resources apart
// ---------------------------------------------------------------------------------------

/// User or Group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    /// From the core schema URN in `schemas`, else `meta.resourceType` (as exports and
    /// clients vary in which they give).
    pub fn detect(object: &Map<String, Value>) -> Result<ResourceKind, AttributeError> {
        let mut from_schemas = None;
        if let Some((at, schemas)) = opt_array(find(object, "schemas", "")?, "")? {
            for (i, schema) in schemas.iter().enumerate() {
                let Value::String(schema) = schema else {
                    return Err(AttributeError::new(
                        format!("{at}/{i}"),
                        expected("a schema URN (a string)", schema),
                    ));
                };
                let this = if schema.eq_ignore_ascii_case(USER_SCHEMA_ID) {
                    ResourceKind::User
                } else if schema.eq_ignore_ascii_case(GROUP_SCHEMA_ID) {
                    ResourceKind::Group
                } else {
                    continue;
                };
                if from_schemas.is_some_and(|kind| kind != this) {
                    return Err(AttributeError::new(
                        at,
                        "lists both the User and the Group schema; a resource is one or the other",
                    ));
                }
                from_schemas = Some(this);
            }
        }
        let mut from_meta = None;
        if let Some((at, meta)) = opt_object(find(object, "meta", "")?, "")? {
            let attr = find(meta, "resourceType", &at)?;
            if let Some(resource_type) = opt_str(attr, &at)? {
                from_meta = match resource_type {
                    t if t.eq_ignore_ascii_case("User") => Some(ResourceKind::User),
                    t if t.eq_ignore_ascii_case("Group") => Some(ResourceKind::Group),
                    // Other resource types exist (e.g. extensions); they only matter if the
                    // schemas do not say what this is.
                    _ if from_schemas.is_some() => None,
                    other => {
                        let key = attr.map_or("resourceType", |(k, _)| k);
                        return Err(AttributeError::new(
                            pointer(&at, key),
                            format!("expected \"User\" or \"Group\", found {}", quoted(other)),
                        ));
                    }
                };
            }
        }
        from_schemas.or(from_meta).ok_or_else(|| {
            AttributeError::new(
                "/schemas",
                format!(
                    "cannot tell a User from a Group: add \"schemas\": [\"{USER_SCHEMA_ID}\"] (or the Group \
                     schema), or \"meta\": {{\"resourceType\": \"User\"}}"
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_user_round_trips_through_an_account_and_its_extras() {
        let sent = json!({
            "schemas": [USER_SCHEMA_ID],
            "id": "u1",
            "externalId": "0a21f0f2",
            "userName": "Test_User",
            "name": {"formatted": "Given Family", "givenName": "Given", "familyName": "Family"},
            "emails": [
                {"value": "other@x.com", "type": "other"},
                {"value": "work@x.com", "type": "work", "primary": true}
            ]
        });
        let user = User::from_json(&sent).unwrap();
        let (account, extras) = user.clone().into_account().unwrap();
        assert_eq!(account.email.as_deref(), Some("work@x.com"));
        assert_eq!(account.alias_emails, ["other@x.com"]);
        assert!(account.active);
        assert_eq!(
            User::from_account(&account, &extras),
            User {
                meta: Some(Meta::of("User")),
                ..user
            }
        );
    }

    #[test]
    fn a_migrated_account_shows_its_email_as_primary_work() {
        let account = Account {
            id: "JIRAUSER1".into(),
            username: Some("jdoe".into()),
            email: Some("j@acme.com".into()),
            alias_emails: vec!["jd@acme.com".into()],
            active: true,
            ..Account::default()
        };
        let user = User::from_account(&account, &UserExtras::migrated(&account));
        let json = user.to_json();
        assert_eq!(
            json["emails"],
            json!([
                {"value": "j@acme.com", "type": "work", "primary": true},
                {"value": "jd@acme.com", "type": "other", "primary": false}
            ])
        );
        assert_eq!(json["active"], json!(true));
        assert_eq!(json["schemas"], json!([USER_SCHEMA_ID]));
    }

    #[test]
    fn an_empty_extension_object_given_is_kept_and_one_not_given_is_not_made_up() {
        let sent = json!({"id": "u1", "userName": "x", CROSSWALK_USER_EXTENSION: {}});
        let (account, extras) = User::from_json(&sent).unwrap().into_account().unwrap();
        let json = User::from_account(&account, &extras).to_json();
        assert_eq!(json[CROSSWALK_USER_EXTENSION], json!({}));
        assert_eq!(
            json["schemas"],
            json!([USER_SCHEMA_ID, CROSSWALK_USER_EXTENSION])
        );
        let (account, extras) = User::from_json(&json!({"id": "u1", "userName": "x"}))
            .unwrap()
            .into_account()
            .unwrap();
        let json = User::from_account(&account, &extras).to_json();
        assert!(json.get(CROSSWALK_USER_EXTENSION).is_none(), "{json}");

        let sent = json!({"id": "g1", "displayName": "G", CROSSWALK_GROUP_EXTENSION: {}});
        let (group, extras) = Group::from_json(&sent).unwrap().into_group().unwrap();
        assert_eq!(group.display_name.as_deref(), Some("G"));
        let json = Group::from_group(&group, &extras).to_json();
        assert_eq!(json[CROSSWALK_GROUP_EXTENSION], json!({}), "{json}");
        let (group, extras) = Group::from_json(&json!({"id": "g1", "displayName": "G"}))
            .unwrap()
            .into_group()
            .unwrap();
        let json = Group::from_group(&group, &extras).to_json();
        assert!(json.get(CROSSWALK_GROUP_EXTENSION).is_none(), "{json}");
    }

    #[test]
    fn check_write_wants_a_user_name_and_one_primary() {
        let user = User::from_json(&json!({"emails": [{"value": "a@b.c", "primary": true}, {"value": "d@e.f", "primary": "True"}]})).unwrap();
        assert_eq!(
            user.check_write().unwrap_err().to_string(),
            "/userName: is required"
        );
        let user = User {
            user_name: Some("x".into()),
            ..user
        };
        assert_eq!(user.check_write().unwrap_err().pointer, "/emails/1/primary");
    }
}
