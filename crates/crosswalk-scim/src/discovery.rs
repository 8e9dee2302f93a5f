//! The discovery documents (RFC 7644 §4, RFC 7643 §5-7, RFC 9865 §4) as data:
//! `/ServiceProviderConfig`, `/Schemas` and `/ResourceTypes`, built from the schema tables
//! in [`crate::schema`], so that what is advertised is exactly what the filters, PATCH and
//! projections accept. List endpoints answer in the `ListResponse` shape with
//! `totalResults` (conformance testers run nothing if discovery does not parse), and
//! `/Schemas` includes the three schemas that describe these documents themselves.

use serde_json::{Map, Value, json};

use crate::message::{BulkLimits, LIST_RESPONSE_SCHEMA};
use crate::query::QueryLimits;
use crate::schema::{
    Attribute, AttributeType, CROSSWALK_GROUP_SCHEMA, CROSSWALK_USER_SCHEMA, GROUP_SCHEMA,
    RESOURCE_TYPE_SCHEMA_ID, RESOURCE_TYPES, ResourceType, SCHEMA_SCHEMA_ID,
    SERVICE_PROVIDER_CONFIG_SCHEMA_ID, Schema, USER_SCHEMA,
};

/// What the service offers, for `/ServiceProviderConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    pub documentation_uri: Option<String>,
    pub bulk: BulkLimits,
    pub query: QueryLimits,
}

impl Default for ServiceConfig {
    fn default() -> ServiceConfig {
        ServiceConfig {
            documentation_uri: None,
            bulk: BulkLimits {
                max_operations: 1000,
                max_payload_size: 1 << 20,
            },
            query: QueryLimits::default(),
        }
    }
}

/// `base` is the service's root as clients reach it (`https://host/scim/v2`), for the
/// documents' `meta.location`.
fn location(base: &str, rest: &str) -> String {
    format!("{}/{rest}", base.trim_end_matches('/'))
}

/// `GET /ServiceProviderConfig`.
pub fn service_provider_config(config: &ServiceConfig, base: &str) -> Value {
    let mut document = json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA_ID],
        "patch": {"supported": true},
        "bulk": {
            "supported": true,
            "maxOperations": config.bulk.max_operations,
            "maxPayloadSize": config.bulk.max_payload_size
        },
        "filter": {"supported": true, "maxResults": config.query.max_page_size},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": config.query.default_page_size,
            "maxPageSize": config.query.max_page_size
        },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a bearer token issued for one migration scope (RFC 6750)",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": location(base, "ServiceProviderConfig")
        }
    });
    if let (Some(uri), Value::Object(map)) = (&config.documentation_uri, &mut document) {
        map.insert("documentationUri".to_string(), Value::String(uri.clone()));
    }
    document
}

fn attribute_json(attribute: &Attribute) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), attribute.name.into());
    out.insert("type".into(), attribute.kind.as_str().into());
    out.insert("multiValued".into(), attribute.multi_valued.into());
    out.insert("description".into(), attribute.description.into());
    out.insert("required".into(), attribute.required.into());
    if !attribute.canonical_values.is_empty() {
        out.insert("canonicalValues".into(), attribute.canonical_values.into());
    }
    out.insert("caseExact".into(), attribute.case_exact.into());
    out.insert("mutability".into(), attribute.mutability.as_str().into());
    out.insert("returned".into(), attribute.returned.as_str().into());
    out.insert("uniqueness".into(), attribute.uniqueness.as_str().into());
    if attribute.kind == AttributeType::Reference {
        out.insert("referenceTypes".into(), attribute.reference_types.into());
    }
    if attribute.kind == AttributeType::Complex {
        out.insert(
            "subAttributes".into(),
            attribute
                .sub_attributes
                .iter()
                .map(attribute_json)
                .collect(),
        );
    }
    Value::Object(out)
}

fn schema_json(schema: &Schema, base: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA_ID],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": schema.attributes.iter().map(attribute_json).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": location(base, &format!("Schemas/{}", schema.id))}
    })
}

fn all_schemas() -> [&'static Schema; 7] {
    [
        &USER_SCHEMA,
        &CROSSWALK_USER_SCHEMA,
        &GROUP_SCHEMA,
        &CROSSWALK_GROUP_SCHEMA,
        &SERVICE_PROVIDER_CONFIG_SCHEMA,
        &RESOURCE_TYPE_SCHEMA,
        &SCHEMA_SCHEMA,
    ]
}

fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources
    })
}

/// `GET /Schemas`: every schema the service uses, in a `ListResponse`.
pub fn schemas(base: &str) -> Value {
    list(
        all_schemas()
            .into_iter()
            .map(|s| schema_json(s, base))
            .collect(),
    )
}

/// `GET /Schemas/{id}`; `None` (a 404) for a URN the service does not use.
pub fn schema(id: &str, base: &str) -> Option<Value> {
    all_schemas()
        .into_iter()
        .find(|s| s.id.eq_ignore_ascii_case(id))
        .map(|s| schema_json(s, base))
}

fn resource_type_json(rt: &ResourceType, base: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA_ID],
        "id": rt.id,
        "name": rt.id,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.schema.id,
        "schemaExtensions": rt.extensions.iter().map(|e| json!({"schema": e.schema.id, "required": e.required})).collect::<Vec<_>>(),
        "meta": {"resourceType": "ResourceType", "location": location(base, &format!("ResourceTypes/{}", rt.id))}
    })
}

/// `GET /ResourceTypes`: User (with Crosswalk's extension) and Group.
pub fn resource_types(base: &str) -> Value {
    list(
        RESOURCE_TYPES
            .iter()
            .map(|rt| resource_type_json(rt, base))
            .collect(),
    )
}

/// `GET /ResourceTypes/{id}` (`User` or `Group`, any case).
pub fn resource_type(id: &str, base: &str) -> Option<Value> {
    RESOURCE_TYPES
        .iter()
        .find(|rt| rt.id.eq_ignore_ascii_case(id))
        .map(|rt| resource_type_json(rt, base))
}

// ---------------------------------------------------------------------------------------
// The schemas of the discovery documents (RFC 7643 §8.7.2; RFC 9865 §4 adds pagination)
// ---------------------------------------------------------------------------------------

const SUPPORTED: &[Attribute] =
    &[
        Attribute::boolean("supported", "Whether the operation is supported.")
            .required()
            .read_only(),
    ];

const fn supported(name: &'static str, description: &'static str) -> Attribute {
    Attribute::complex(name, description, SUPPORTED)
        .required()
        .read_only()
}

pub static SERVICE_PROVIDER_CONFIG_SCHEMA: Schema = Schema {
    id: SERVICE_PROVIDER_CONFIG_SCHEMA_ID,
    name: "Service Provider Configuration",
    description: "Schema for representing the service provider's configuration",
    attributes: &[
        Attribute::reference("documentationUri", "An HTTP-addressable URL pointing to the service provider's human-consumable help documentation.", &["external"])
            .read_only(),
        supported("patch", "A complex type that specifies PATCH configuration options."),
        Attribute::complex(
            "bulk",
            "A complex type that specifies bulk configuration options.",
            &[
                Attribute::boolean("supported", "Whether bulk is supported.").required().read_only(),
                Attribute::integer("maxOperations", "The maximum number of operations.").required().read_only(),
                Attribute::integer("maxPayloadSize", "The maximum payload size in bytes.").required().read_only(),
            ],
        )
        .required()
        .read_only(),
        Attribute::complex(
            "filter",
            "A complex type that specifies filter options.",
            &[
                Attribute::boolean("supported", "Whether filtering is supported.").required().read_only(),
                Attribute::integer("maxResults", "The maximum number of resources returned in a response.").required().read_only(),
            ],
        )
        .required()
        .read_only(),
        supported("changePassword", "A complex type that specifies configuration options related to changing a password."),
        supported("sort", "A complex type that specifies sort result options."),
        supported("etag", "A complex type that specifies ETag configuration options."),
        Attribute::complex(
            "pagination",
            "Pagination configuration options (RFC 9865).",
            &[
                Attribute::boolean("cursor", "Whether cursor-based pagination is supported.").required().read_only(),
                Attribute::boolean("index", "Whether index-based pagination is supported.").required().read_only(),
                Attribute::string("defaultPaginationMethod", "The pagination method used when a request does not choose.")
                    .canonical(&["cursor", "index"])
                    .read_only(),
                Attribute::integer("defaultPageSize", "Results per page when a request gives no count.").read_only(),
                Attribute::integer("maxPageSize", "The most results per page.").read_only(),
                Attribute::integer("cursorTimeout", "Seconds a cursor is guaranteed to stay valid.").read_only(),
            ],
        )
        .read_only(),
        Attribute::complex(
            "authenticationSchemes",
            "A complex type that specifies supported authentication scheme properties.",
            &[
                Attribute::string("type", "The authentication scheme.")
                    .canonical(&["oauth", "oauth2", "oauthbearertoken", "httpbasic", "httpdigest"])
                    .required()
                    .read_only(),
                Attribute::string("name", "The common authentication scheme name.").required().read_only(),
                Attribute::string("description", "A description of the authentication scheme.").required().read_only(),
                Attribute::reference("specUri", "An HTTP-addressable URL pointing to the authentication scheme's specification.", &["external"])
                    .read_only(),
                Attribute::reference("documentationUri", "An HTTP-addressable URL pointing to the authentication scheme's usage documentation.", &["external"])
                    .read_only(),
                Attribute::boolean("primary", "Whether this is the preferred authentication scheme.").read_only(),
            ],
        )
        .multi()
        .required()
        .read_only(),
    ],
    not_stored: &[],
};

pub static RESOURCE_TYPE_SCHEMA: Schema = Schema {
    id: RESOURCE_TYPE_SCHEMA_ID,
    name: "ResourceType",
    description: "Specifies the schema that describes a SCIM resource type",
    attributes: &[
        Attribute::string("id", "The resource type's server unique id.").read_only(),
        Attribute::string("name", "The resource type name.")
            .required()
            .read_only(),
        Attribute::string(
            "description",
            "The resource type's human-readable description.",
        )
        .read_only(),
        Attribute::reference(
            "endpoint",
            "The resource type's HTTP-addressable endpoint relative to the Base URL.",
            &["uri"],
        )
        .required()
        .read_only(),
        Attribute::reference(
            "schema",
            "The resource type's primary/base schema URI.",
            &["uri"],
        )
        .required()
        .read_only(),
        Attribute::complex(
            "schemaExtensions",
            "A list of URIs of the resource type's schema extensions.",
            &[
                Attribute::reference("schema", "The URI of a schema extension.", &["uri"])
                    .required()
                    .read_only(),
                Attribute::boolean(
                    "required",
                    "Whether resources of this type must include this extension.",
                )
                .required()
                .read_only(),
            ],
        )
        .multi()
        .read_only(),
    ],
    not_stored: &[],
};

/// An attribute definition's own attributes, as listed in a schema's `attributes` (and,
/// one level down, `subAttributes`).
const ATTRIBUTE_DEFINITION: [Attribute; 11] = [
    Attribute::string("name", "The attribute's name.")
        .required()
        .case_exact()
        .read_only(),
    Attribute::string("type", "The attribute's data type.")
        .canonical(&[
            "string",
            "complex",
            "boolean",
            "decimal",
            "integer",
            "dateTime",
            "reference",
            "binary",
        ])
        .required()
        .read_only(),
    Attribute::boolean("multiValued", "Whether the attribute is multi-valued.")
        .required()
        .read_only(),
    Attribute::string(
        "description",
        "A human-readable description of the attribute.",
    )
    .read_only(),
    Attribute::boolean("required", "Whether the attribute is required.").read_only(),
    Attribute::string("canonicalValues", "A collection of canonical values.")
        .multi()
        .case_exact()
        .read_only(),
    Attribute::boolean(
        "caseExact",
        "Whether string comparisons of the attribute respect case.",
    )
    .read_only(),
    Attribute::string(
        "mutability",
        "Whether and when the attribute can be changed.",
    )
    .canonical(&["readOnly", "readWrite", "immutable", "writeOnly"])
    .read_only(),
    Attribute::string("returned", "When the attribute is returned in a response.")
        .canonical(&["always", "never", "default", "request"])
        .read_only(),
    Attribute::string("uniqueness", "How the service enforces uniqueness.")
        .canonical(&["none", "server", "global"])
        .read_only(),
    Attribute::string(
        "referenceTypes",
        "The resource types a reference may refer to.",
    )
    .multi()
    .read_only(),
];

static SUB_ATTRIBUTE_DEFINITION: [Attribute; 11] = ATTRIBUTE_DEFINITION;

static FULL_ATTRIBUTE_DEFINITION: [Attribute; 12] = {
    let mut all = [Attribute::string("", ""); 12];
    let mut i = 0;
    while i < 11 {
        all[i] = ATTRIBUTE_DEFINITION[i];
        i += 1;
    }
    all[11] = Attribute::complex(
        "subAttributes",
        "Sub-attributes of a complex attribute.",
        &SUB_ATTRIBUTE_DEFINITION,
    )
    .multi()
    .read_only();
    all
};

pub static SCHEMA_SCHEMA: Schema = Schema {
    id: SCHEMA_SCHEMA_ID,
    name: "Schema",
    description: "Specifies the schema attribute definitions of a resource",
    attributes: &[
        Attribute::string("id", "The unique URI of the schema.")
            .required()
            .read_only(),
        Attribute::string("name", "The schema's human-readable name.").read_only(),
        Attribute::string("description", "The schema's human-readable description.").read_only(),
        Attribute::complex(
            "attributes",
            "The schema's attribute definitions.",
            &FULL_ATTRIBUTE_DEFINITION,
        )
        .multi()
        .required()
        .read_only(),
    ],
    not_stored: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://crosswalk.example/scim/v2/";

    #[test]
    fn lists_have_counts_and_every_schema_has_a_location() {
        let all = schemas(BASE);
        assert_eq!(all["totalResults"], 7);
        assert_eq!(all["Resources"].as_array().unwrap().len(), 7);
        let names: Vec<&str> = all["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        for required in [
            "User",
            "Group",
            "ResourceType",
            "Service Provider Configuration",
            "Schema",
        ] {
            assert!(names.contains(&required), "{names:?}");
        }
        let user = schema("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER", BASE).unwrap();
        assert_eq!(
            user["meta"]["location"],
            "https://crosswalk.example/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"
        );
        let user_name = &user["attributes"][0];
        assert_eq!(user_name["name"], "userName");
        assert_eq!(user_name["caseExact"], false);
        assert_eq!(user_name["uniqueness"], "server");
        assert!(
            schema(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                BASE
            )
            .is_none()
        );
        let types = resource_types(BASE);
        assert_eq!(types["totalResults"], 2);
        assert_eq!(
            resource_type("user", BASE).unwrap()["schemaExtensions"][0]["required"],
            false
        );
    }

    #[test]
    fn the_service_provider_config_says_what_is_supported() {
        let config = service_provider_config(&ServiceConfig::default(), BASE);
        assert_eq!(config["bulk"]["maxOperations"], 1000);
        assert_eq!(config["changePassword"]["supported"], false);
        assert_eq!(config["etag"]["supported"], true);
        assert_eq!(
            config["authenticationSchemes"][0]["type"],
            "oauthbearertoken"
        );
        assert_eq!(config["pagination"]["cursor"], true);
        assert!(config.get("documentationUri").is_none());
    }
}
