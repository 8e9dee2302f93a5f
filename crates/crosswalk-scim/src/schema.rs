//! The schemas Crosswalk serves, as data (RFC 7643 §2, §7): every attribute with its type,
//! plurality, case rule, mutability, when it is returned and how unique it is.
//!
//! One table drives everything that depends on an attribute's definition: which names a
//! filter, a PATCH path or `attributes=` may use ([`ResourceType::resolve`]), whether a
//! comparison ignores case (`caseExact`), which attributes PATCH may change, which are
//! always returned, and the `/Schemas` and `/ResourceTypes` documents. Only what Crosswalk
//! stores is listed, so everything advertised round-trips; attributes the RFC's User and
//! enterprise schemas define but Crosswalk does not store (`title`, `phoneNumbers`,
//! `employeeNumber`...) are named in `not_stored`: a request may carry them (they are
//! accepted and dropped, so an identity provider's default mappings do not fail), but a
//! filter on them is refused, since nothing could ever match it.

use std::fmt;

use crate::filter::AttrPath;

pub const USER_SCHEMA_ID: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA_ID: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER_SCHEMA_ID: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Crosswalk's own User extension, for the account fields SCIM has no attribute for:
/// `sourceDirectory` (string) and `emailVerified` (boolean). Both are read-only over SCIM.
pub const CROSSWALK_USER_EXTENSION: &str = "urn:crosswalk:params:scim:schemas:extension:2.0:User";
/// Crosswalk's own Group extension: `displayName` (string or `null`), present only when a
/// group's display name is not simply its name. Read-only over SCIM.
pub const CROSSWALK_GROUP_EXTENSION: &str = "urn:crosswalk:params:scim:schemas:extension:2.0:Group";
pub const SERVICE_PROVIDER_CONFIG_SCHEMA_ID: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE_SCHEMA_ID: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SCHEMA_SCHEMA_ID: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

impl AttributeType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::String => "string",
            AttributeType::Boolean => "boolean",
            AttributeType::Decimal => "decimal",
            AttributeType::Integer => "integer",
            AttributeType::DateTime => "dateTime",
            AttributeType::Binary => "binary",
            AttributeType::Reference => "reference",
            AttributeType::Complex => "complex",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    /// Set at creation (or while unassigned), never changed after.
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    /// In every response, whatever `attributes`/`excludedAttributes` say (`id`).
    Always,
    Never,
    /// Unless excluded, or left out of an `attributes` list.
    Default,
    /// Only when named in `attributes`.
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    /// Unique among this service's resources of the type (within a scope, for Crosswalk).
    Server,
    Global,
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute definition (RFC 7643 §7 `attributes`), built with the `const` builders
/// below so that the tables read like the RFC's schema listings.
#[derive(Debug, Clone, Copy)]
pub struct Attribute {
    pub name: &'static str,
    pub kind: AttributeType,
    pub multi_valued: bool,
    pub description: &'static str,
    pub required: bool,
    /// Whether string comparisons respect case (`id`: yes; `userName`: no).
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub_attributes: &'static [Attribute],
}

impl Attribute {
    const fn base(name: &'static str, kind: AttributeType, description: &'static str) -> Attribute {
        Attribute {
            name,
            kind,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
        }
    }

    pub const fn string(name: &'static str, description: &'static str) -> Attribute {
        Attribute::base(name, AttributeType::String, description)
    }

    pub const fn boolean(name: &'static str, description: &'static str) -> Attribute {
        Attribute::base(name, AttributeType::Boolean, description)
    }

    pub const fn integer(name: &'static str, description: &'static str) -> Attribute {
        Attribute::base(name, AttributeType::Integer, description)
    }

    pub const fn date_time(name: &'static str, description: &'static str) -> Attribute {
        Attribute::base(name, AttributeType::DateTime, description)
    }

    /// A reference; `types` are the RFC's `referenceTypes` (`User`, `Group`, `external`, `uri`).
    pub const fn reference(
        name: &'static str,
        description: &'static str,
        types: &'static [&'static str],
    ) -> Attribute {
        Attribute {
            reference_types: types,
            case_exact: true,
            ..Attribute::base(name, AttributeType::Reference, description)
        }
    }

    pub const fn complex(
        name: &'static str,
        description: &'static str,
        sub: &'static [Attribute],
    ) -> Attribute {
        Attribute {
            sub_attributes: sub,
            ..Attribute::base(name, AttributeType::Complex, description)
        }
    }

    pub const fn multi(self) -> Attribute {
        Attribute {
            multi_valued: true,
            ..self
        }
    }

    pub const fn required(self) -> Attribute {
        Attribute {
            required: true,
            ..self
        }
    }

    pub const fn case_exact(self) -> Attribute {
        Attribute {
            case_exact: true,
            ..self
        }
    }

    pub const fn read_only(self) -> Attribute {
        Attribute {
            mutability: Mutability::ReadOnly,
            ..self
        }
    }

    pub const fn immutable(self) -> Attribute {
        Attribute {
            mutability: Mutability::Immutable,
            ..self
        }
    }

    pub const fn always(self) -> Attribute {
        Attribute {
            returned: Returned::Always,
            ..self
        }
    }

    pub const fn unique(self) -> Attribute {
        Attribute {
            uniqueness: Uniqueness::Server,
            ..self
        }
    }

    pub const fn canonical(self, values: &'static [&'static str]) -> Attribute {
        Attribute {
            canonical_values: values,
            ..self
        }
    }

    /// A sub-attribute by name, case ignored.
    pub fn sub(&self, name: &str) -> Option<&'static Attribute> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// Whether a request may change it (read-only attributes are the server's).
    pub fn is_read_only(&self) -> bool {
        self.mutability == Mutability::ReadOnly
    }
}

/// A schema: a URN and its attributes (RFC 7643 §7).
#[derive(Debug)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [Attribute],
    /// Attributes (or `attribute.sub`) the RFC defines in this schema that Crosswalk does
    /// not store: accepted in requests and dropped, never advertised, never filterable.
    pub not_stored: &'static [&'static str],
}

impl Schema {
    pub fn attribute(&'static self, name: &str) -> Option<&'static Attribute> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    fn is_not_stored(&self, name: &str, sub: Option<&str>) -> bool {
        self.not_stored
            .iter()
            .any(|entry| match (entry.split_once('.'), sub) {
                (None, _) => entry.eq_ignore_ascii_case(name),
                (Some((attr, sub_name)), Some(sub)) => {
                    attr.eq_ignore_ascii_case(name) && sub_name.eq_ignore_ascii_case(sub)
                }
                (Some(_), None) => false,
            })
    }
}

/// A schema extension of a resource type, and whether resources must carry it.
#[derive(Debug)]
pub struct Extension {
    pub schema: &'static Schema,
    pub required: bool,
}

/// A resource type (RFC 7643 §6): its endpoint, core schema and extensions.
#[derive(Debug)]
pub struct ResourceType {
    /// `User` or `Group`: the id, the name and the `meta.resourceType` value.
    pub id: &'static str,
    pub endpoint: &'static str,
    pub description: &'static str,
    pub schema: &'static Schema,
    /// The extensions Crosswalk stores and advertises.
    pub extensions: &'static [Extension],
    /// Extensions the RFC defines that Crosswalk does not store: accepted and dropped.
    pub unstored_extensions: &'static [&'static Schema],
}

/// Where an attribute path leads, once checked against a resource type.
#[derive(Debug, Clone, Copy)]
pub enum Resolved {
    /// An attribute Crosswalk stores.
    Attribute(Target),
    /// A whole extension object (a PATCH path or an `attributes=` entry that is a schema URN).
    Extension(&'static Schema),
    /// `schemas`: computed from the content, so requests cannot change it.
    Schemas,
    /// An attribute SCIM defines but Crosswalk does not store.
    NotStored,
}

/// A stored attribute, and a sub-attribute of it when the path names one.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The extension whose object holds the attribute; `None` for the top level.
    pub extension: Option<&'static Schema>,
    pub attribute: &'static Attribute,
    pub sub: Option<&'static Attribute>,
}

impl Target {
    /// The definition the path ends at: the sub-attribute if there is one.
    pub fn leaf(&self) -> &'static Attribute {
        self.sub.unwrap_or(self.attribute)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(extension) = self.extension {
            write!(f, "{}:", extension.id)?;
        }
        f.write_str(self.attribute.name)?;
        if let Some(sub) = self.sub {
            write!(f, ".{}", sub.name)?;
        }
        Ok(())
    }
}

impl ResourceType {
    /// Checks an attribute path against this resource type: `userName`, `name.givenName`,
    /// `urn:ietf:params:scim:schemas:core:2.0:User:userName`, an extension's attribute by
    /// its URN-qualified name, or an extension's URN alone. Names ignore case. The error is
    /// a sentence for an `invalidFilter`/`invalidPath` detail.
    pub fn resolve(&'static self, path: &AttrPath) -> Result<Resolved, String> {
        let name = path.name.as_str();
        let sub = path.sub.as_deref();
        let Some(urn) = path.urn.as_deref() else {
            if name.eq_ignore_ascii_case("schemas") && sub.is_none() {
                return Ok(Resolved::Schemas);
            }
            if let Some(attribute) = COMMON_ATTRIBUTES
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name))
            {
                return self.with_sub(None, attribute, sub, path);
            }
            if let Some(attribute) = self.schema.attribute(name) {
                return self.with_sub(None, attribute, sub, path);
            }
            if self.schema.is_not_stored(name, sub) {
                return Ok(Resolved::NotStored);
            }
            // An extension's attribute by its bare name, when only one extension has it.
            let mut found = self
                .extensions
                .iter()
                .filter_map(|e| e.schema.attribute(name).map(|a| (e.schema, a)));
            if let (Some((schema, attribute)), None) = (found.next(), found.next()) {
                return self.with_sub(Some(schema), attribute, sub, path);
            }
            if self
                .unstored_extensions
                .iter()
                .any(|s| s.is_not_stored(name, sub))
            {
                return Ok(Resolved::NotStored);
            }
            return Err(format!(
                "{} has no attribute {:?}",
                self.id,
                path.to_string()
            ));
        };
        // The path may be a schema URN alone: the parser split its last segment off as a name.
        if sub.is_none() {
            let whole = format!("{urn}:{name}");
            if let Some(extension) = self
                .extensions
                .iter()
                .find(|e| e.schema.id.eq_ignore_ascii_case(&whole))
            {
                return Ok(Resolved::Extension(extension.schema));
            }
            if self
                .unstored_extensions
                .iter()
                .any(|s| s.id.eq_ignore_ascii_case(&whole))
            {
                return Ok(Resolved::NotStored);
            }
        }
        if urn.eq_ignore_ascii_case(self.schema.id) {
            if let Some(attribute) = self.schema.attribute(name) {
                return self.with_sub(None, attribute, sub, path);
            }
            if self.schema.is_not_stored(name, sub) {
                return Ok(Resolved::NotStored);
            }
            return Err(format!(
                "the schema {} has no attribute {name:?}",
                self.schema.id
            ));
        }
        if let Some(extension) = self
            .extensions
            .iter()
            .find(|e| e.schema.id.eq_ignore_ascii_case(urn))
        {
            return match extension.schema.attribute(name) {
                Some(attribute) => self.with_sub(Some(extension.schema), attribute, sub, path),
                None => Err(format!(
                    "the schema {} has no attribute {name:?}",
                    extension.schema.id
                )),
            };
        }
        if self
            .unstored_extensions
            .iter()
            .any(|s| s.id.eq_ignore_ascii_case(urn))
        {
            return Ok(Resolved::NotStored);
        }
        Err(format!(
            "{} does not use the schema {urn}; its schemas are {}",
            self.id,
            self.schema_ids().collect::<Vec<_>>().join(", ")
        ))
    }

    fn with_sub(
        &'static self,
        extension: Option<&'static Schema>,
        attribute: &'static Attribute,
        sub: Option<&str>,
        path: &AttrPath,
    ) -> Result<Resolved, String> {
        let Some(sub) = sub else {
            return Ok(Resolved::Attribute(Target {
                extension,
                attribute,
                sub: None,
            }));
        };
        if attribute.kind != AttributeType::Complex {
            return Err(format!(
                "{} is a {} and has no sub-attributes (in {:?})",
                attribute.name,
                attribute.kind.as_str(),
                path.to_string()
            ));
        }
        if let Some(sub_attribute) = attribute.sub(sub) {
            return Ok(Resolved::Attribute(Target {
                extension,
                attribute,
                sub: Some(sub_attribute),
            }));
        }
        if extension.is_none() && self.schema.is_not_stored(attribute.name, Some(sub)) {
            return Ok(Resolved::NotStored);
        }
        let names: Vec<&str> = attribute.sub_attributes.iter().map(|a| a.name).collect();
        Err(format!(
            "{} has no sub-attribute {sub:?}; it has {}",
            attribute.name,
            names.join(", ")
        ))
    }

    /// The core schema's URN, then each extension's.
    pub fn schema_ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.schema.id).chain(self.extensions.iter().map(|e| e.schema.id))
    }

    /// Every attribute of the resource: common, core, then each extension's, with where it lives.
    pub fn attributes(
        &'static self,
    ) -> impl Iterator<Item = (Option<&'static Schema>, &'static Attribute)> {
        COMMON_ATTRIBUTES
            .iter()
            .map(|a| (None, a))
            .chain(self.schema.attributes.iter().map(|a| (None, a)))
            .chain(
                self.extensions
                    .iter()
                    .flat_map(|e| e.schema.attributes.iter().map(move |a| (Some(e.schema), a))),
            )
    }
}

// ---------------------------------------------------------------------------------------
// The tables
// ---------------------------------------------------------------------------------------

/// The attributes every resource has (RFC 7643 §3.1). Not part of any schema document.
pub static COMMON_ATTRIBUTES: [Attribute; 3] = [
    Attribute::string(
        "id",
        "Unique identifier for the resource, assigned by the service provider.",
    )
    .case_exact()
    .read_only()
    .always()
    .unique(),
    Attribute::string(
        "externalId",
        "Identifier of the resource as the provisioning client knows it.",
    )
    .case_exact(),
    Attribute::complex(
        "meta",
        "Resource metadata maintained by the service provider.",
        &[
            Attribute::string(
                "resourceType",
                "The name of the resource type of the resource.",
            )
            .case_exact()
            .read_only(),
            Attribute::date_time(
                "created",
                "When the resource was added to the service provider.",
            )
            .read_only(),
            Attribute::date_time("lastModified", "When the resource was last changed.").read_only(),
            Attribute::reference("location", "The URI of the resource.", &["uri"]).read_only(),
            Attribute::string("version", "The version (ETag) of the resource.")
                .case_exact()
                .read_only(),
        ],
    )
    .read_only(),
];

pub static USER_SCHEMA: Schema = Schema {
    id: USER_SCHEMA_ID,
    name: "User",
    description: "User Account",
    attributes: &[
        Attribute::string(
            "userName",
            "Unique identifier for the User, typically used by the user to directly authenticate to the service provider.",
        )
        .required()
        .unique(),
        Attribute::complex(
            "name",
            "The components of the user's name.",
            &[
                Attribute::string("formatted", "The full name, formatted for display."),
                Attribute::string("familyName", "The family name of the User, or last name."),
                Attribute::string("givenName", "The given name of the User, or first name."),
            ],
        ),
        Attribute::string("displayName", "The name of the User, suitable for display to end-users."),
        Attribute::complex(
            "emails",
            "Email addresses for the user.",
            &[
                Attribute::string("value", "Email address for the user.").required(),
                Attribute::string("type", "A label indicating the attribute's function.").canonical(&["work", "home", "other"]),
                Attribute::boolean("primary", "Whether this is the user's primary email address."),
            ],
        )
        .multi(),
        Attribute::boolean("active", "The user's administrative status."),
        Attribute::complex(
            "groups",
            "The groups the user belongs to, directly or through a group that is a member.",
            &[
                Attribute::string("value", "The id of the group.").case_exact().read_only(),
                Attribute::reference("$ref", "The URI of the group.", &["User", "Group"]).read_only(),
                Attribute::string("display", "The group's display name.").read_only(),
                Attribute::string("type", "Whether the membership is direct or through another group.")
                    .canonical(&["direct", "indirect"])
                    .read_only(),
            ],
        )
        .multi()
        .read_only(),
    ],
    not_stored: &[
        "nickName",
        "profileUrl",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "password",
        "phoneNumbers",
        "ims",
        "photos",
        "addresses",
        "entitlements",
        "roles",
        "x509Certificates",
        "name.middleName",
        "name.honorificPrefix",
        "name.honorificSuffix",
        "emails.display",
    ],
};

pub static CROSSWALK_USER_SCHEMA: Schema = Schema {
    id: CROSSWALK_USER_EXTENSION,
    name: "CrosswalkUser",
    description: "What Crosswalk knows of an account beyond the core schema",
    attributes: &[
        Attribute::string(
            "sourceDirectory",
            "The directory of the platform the account came from (internal, ldap...).",
        )
        .read_only(),
        Attribute::boolean(
            "emailVerified",
            "Whether the platform has verified that the person owns the email.",
        )
        .read_only(),
    ],
    not_stored: &[],
};

/// The enterprise extension (RFC 7643 §4.3). Crosswalk's directory model holds none of its
/// attributes, so it is accepted and dropped, and not advertised.
pub static ENTERPRISE_USER_SCHEMA: Schema = Schema {
    id: ENTERPRISE_USER_SCHEMA_ID,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &[],
    not_stored: &[
        "employeeNumber",
        "costCenter",
        "organization",
        "division",
        "department",
        "manager",
    ],
};

pub static GROUP_SCHEMA: Schema = Schema {
    id: GROUP_SCHEMA_ID,
    name: "Group",
    description: "Group",
    attributes: &[
        Attribute::string("displayName", "A human-readable name for the Group.")
            .required()
            .unique(),
        Attribute::complex(
            "members",
            "A list of members of the Group.",
            &[
                Attribute::string("value", "The id of the member (a User or a Group).")
                    .case_exact()
                    .immutable(),
                Attribute::reference("$ref", "The URI of the member.", &["User", "Group"])
                    .immutable(),
                Attribute::string("type", "The type of the member.")
                    .canonical(&["User", "Group"])
                    .immutable(),
            ],
        )
        .multi(),
    ],
    // RFC 7643 §8.7.1 gives members no `display`; Okta sends one, which is dropped.
    not_stored: &["members.display"],
};

pub static CROSSWALK_GROUP_SCHEMA: Schema = Schema {
    id: CROSSWALK_GROUP_EXTENSION,
    name: "CrosswalkGroup",
    description: "What Crosswalk knows of a group beyond the core schema",
    attributes: &[Attribute::string(
        "displayName",
        "The group's display name on its platform, when it is not simply its name (null: none).",
    )
    .read_only()],
    not_stored: &[],
};

pub static USER: ResourceType = ResourceType {
    id: "User",
    endpoint: "/Users",
    description: "User Account",
    schema: &USER_SCHEMA,
    extensions: &[Extension {
        schema: &CROSSWALK_USER_SCHEMA,
        required: false,
    }],
    unstored_extensions: &[&ENTERPRISE_USER_SCHEMA],
};

pub static GROUP: ResourceType = ResourceType {
    id: "Group",
    endpoint: "/Groups",
    description: "Group",
    schema: &GROUP_SCHEMA,
    extensions: &[Extension {
        schema: &CROSSWALK_GROUP_SCHEMA,
        required: false,
    }],
    unstored_extensions: &[],
};

/// The resource types Crosswalk serves.
pub static RESOURCE_TYPES: [&ResourceType; 2] = [&USER, &GROUP];

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(rt: &'static ResourceType, text: &str) -> Result<Resolved, String> {
        rt.resolve(&AttrPath::parse(text).unwrap())
    }

    fn target(rt: &'static ResourceType, text: &str) -> String {
        match resolve(rt, text) {
            Ok(Resolved::Attribute(target)) => target.to_string(),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn paths_resolve_in_any_case_and_qualified() {
        assert_eq!(target(&USER, "USERNAME"), "userName");
        assert_eq!(target(&USER, "name.GivenName"), "name.givenName");
        assert_eq!(
            target(&USER, "urn:ietf:params:scim:schemas:core:2.0:User:userName"),
            "userName"
        );
        assert_eq!(
            target(
                &USER,
                "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName"
            ),
            "name.familyName"
        );
        assert_eq!(target(&USER, "emails.value"), "emails.value");
        assert_eq!(target(&USER, "meta.lastModified"), "meta.lastModified");
        assert_eq!(
            target(
                &USER,
                "urn:crosswalk:params:scim:schemas:extension:2.0:User:emailVerified"
            ),
            "urn:crosswalk:params:scim:schemas:extension:2.0:User:emailVerified"
        );
        assert_eq!(target(&GROUP, "members.$ref"), "members.$ref");
        assert!(matches!(
            resolve(&USER, "urn:crosswalk:params:scim:schemas:extension:2.0:User"),
            Ok(Resolved::Extension(s)) if s.id == CROSSWALK_USER_EXTENSION
        ));
    }

    #[test]
    fn unstored_and_unknown_attributes_are_told_apart() {
        for path in [
            "title",
            "name.middleName",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "employeeNumber",
            "emails.display",
        ] {
            assert!(
                matches!(resolve(&USER, path), Ok(Resolved::NotStored)),
                "{path}"
            );
        }
        assert!(matches!(
            resolve(&GROUP, "members.display"),
            Ok(Resolved::NotStored)
        ));
        for path in [
            "nosuch",
            "name.nosuch",
            "userName.x",
            "urn:example:Other:x",
            "members",
        ] {
            let error = resolve(&USER, path).unwrap_err();
            assert!(!error.is_empty(), "{path}");
        }
        assert!(resolve(&GROUP, "title").is_err());
    }

    #[test]
    fn every_table_is_well_formed() {
        for rt in RESOURCE_TYPES {
            let mut seen = std::collections::HashSet::new();
            for (extension, attribute) in rt.attributes() {
                assert!(
                    seen.insert((extension.map(|e| e.id), attribute.name.to_ascii_lowercase())),
                    "{}",
                    attribute.name
                );
                assert_eq!(
                    attribute.kind == AttributeType::Complex,
                    !attribute.sub_attributes.is_empty(),
                    "{}",
                    attribute.name
                );
                for sub in attribute.sub_attributes {
                    assert!(
                        sub.sub_attributes.is_empty(),
                        "sub-attributes do not nest: {}",
                        sub.name
                    );
                    if attribute.is_read_only() {
                        assert!(
                            sub.is_read_only(),
                            "{}.{} under a read-only attribute",
                            attribute.name,
                            sub.name
                        );
                    }
                }
            }
        }
    }
}
