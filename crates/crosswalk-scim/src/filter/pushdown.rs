//! Filters a store can answer from an index instead of testing every resource: the
//! lookups identity providers make before they create (`userName eq "…"`, `externalId eq
//! "…"`, Entra's `emails[type eq "work"].value eq "…"`, `displayName eq "…"` for groups),
//! and `and`/`or` combinations of them.
//!
//! [`plan`] says which keyed look-ups find every resource the filter could match. It is a
//! speed tactic beside the evaluator, not a second meaning: the candidates still go through
//! [`CompiledFilter::matches`] unless the plan is `exact`, and the property tests check that
//! no resource the filter matches is missed by the plan.

use std::borrow::Cow;

use super::{AttrPath, CompValue, CompareOp, CompiledFilter, Filter, Test, fold_case};

/// A keyed look-up. Text is as the client sent it; [`Lookup::key`] gives the form an index
/// must hold it in (folded for attributes that ignore case).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Lookup {
    /// `id eq "…"` (case matters).
    Id(String),
    /// `externalId eq "…"` (case matters).
    ExternalId(String),
    /// Users: `userName eq "…"` (case ignored).
    UserName(String),
    /// Users: an address, by `emails eq`, `emails.value eq`, `emails[value eq …]` or
    /// Entra's `emails[type eq "work"].value eq "…"` (case ignored). `email_type` is the
    /// `type` that same address must have, if the filter asks for one (case ignored).
    Email {
        value: String,
        email_type: Option<String>,
    },
    /// `displayName eq "…"` (case ignored): the group lookup Entra and Okta make.
    DisplayName(String),
    /// Groups: `members.value eq "…"` or `members[value eq "…"]` (case matters).
    Member(String),
}

impl Lookup {
    /// Whether the attribute compares case as it is (`id`, `externalId`, member ids).
    pub fn case_exact(&self) -> bool {
        matches!(
            self,
            Lookup::Id(_) | Lookup::ExternalId(_) | Lookup::Member(_)
        )
    }

    /// The value as an index must hold it: as given for case-exact attributes, else case
    /// folded with [`fold_case`] (build the index with the same function).
    pub fn key(&self) -> Cow<'_, str> {
        let text = match self {
            Lookup::Id(v)
            | Lookup::ExternalId(v)
            | Lookup::UserName(v)
            | Lookup::DisplayName(v)
            | Lookup::Member(v) => v,
            Lookup::Email { value, .. } => value,
        };
        if self.case_exact() {
            Cow::Borrowed(text)
        } else {
            fold_case(text)
        }
    }

    /// Smaller is more selective: ids name one resource, display names may name several.
    fn rank(&self) -> u8 {
        match self {
            Lookup::Id(_) => 0,
            Lookup::ExternalId(_) => 1,
            Lookup::UserName(_) => 2,
            Lookup::Email { .. } => 3,
            Lookup::Member(_) => 4,
            Lookup::DisplayName(_) => 5,
        }
    }
}

/// How to find the resources a filter may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Every resource the filter matches is found by at least one of these.
    pub lookups: Vec<Lookup>,
    /// Every resource these find (by the rules documented on [`Lookup`], an address's type
    /// included) matches the filter, so the candidates need no further test.
    pub exact: bool,
}

/// The look-ups that answer `filter`, or `None` when it needs a scan (`not`, `co`, `pr`, a
/// range, or an `or` with a branch that has no key).
pub fn plan(filter: &CompiledFilter) -> Option<Plan> {
    let user = filter.resource_type().id == "User";
    plan_of(filter.filter(), filter.resource_type().schema.id, user)
}

fn plan_of(filter: &Filter, schema: &str, user: bool) -> Option<Plan> {
    match filter {
        Filter::Attr {
            path,
            test: Test::Compare(CompareOp::Eq, CompValue::String(value)),
        } => attribute_lookup(path, value, schema, user).map(|lookup| Plan {
            lookups: vec![lookup],
            exact: true,
        }),
        Filter::ValuePath { path, filter, sub } => {
            let (mut wanted, exact) = equalities(filter)?;
            if let Some(sub) = sub {
                let Test::Compare(CompareOp::Eq, CompValue::String(value)) = &sub.test else {
                    return None;
                };
                wanted.push((sub.name.as_str(), value.as_str()));
            }
            let value_of = |name: &str| {
                wanted
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.to_string())
            };
            let others = wanted
                .iter()
                .filter(|(n, _)| {
                    !n.eq_ignore_ascii_case("value") && !n.eq_ignore_ascii_case("type")
                })
                .count();
            let value = value_of("value")?;
            let lookup = if user && path.is(schema, "emails", None) {
                Lookup::Email {
                    value,
                    email_type: value_of("type"),
                }
            } else if !user && path.is(schema, "members", None) {
                Lookup::Member(value)
            } else {
                return None;
            };
            let repeated = wanted
                .iter()
                .enumerate()
                .any(|(i, (n, _))| wanted[..i].iter().any(|(m, _)| m.eq_ignore_ascii_case(n)));
            let exact = exact && others == 0 && !repeated && (user || value_of("type").is_none());
            Some(Plan {
                lookups: vec![lookup],
                exact,
            })
        }
        Filter::And(a, b) => {
            let best = match (plan_of(a, schema, user), plan_of(b, schema, user)) {
                (Some(a), Some(b)) => {
                    if rank(&a) <= rank(&b) {
                        a
                    } else {
                        b
                    }
                }
                (Some(one), None) | (None, Some(one)) => one,
                (None, None) => return None,
            };
            Some(Plan {
                exact: false,
                ..best
            })
        }
        Filter::Or(a, b) => {
            let (a, b) = (plan_of(a, schema, user)?, plan_of(b, schema, user)?);
            let mut lookups = a.lookups;
            for lookup in b.lookups {
                if !lookups.contains(&lookup) {
                    lookups.push(lookup);
                }
            }
            Some(Plan {
                lookups,
                exact: a.exact && b.exact,
            })
        }
        _ => None,
    }
}

/// The worst (least selective) look-up of a plan: what an `and` pays for choosing it.
fn rank(plan: &Plan) -> (u8, usize) {
    (
        plan.lookups
            .iter()
            .map(Lookup::rank)
            .max()
            .unwrap_or(u8::MAX),
        plan.lookups.len(),
    )
}

fn attribute_lookup(path: &AttrPath, value: &str, schema: &str, user: bool) -> Option<Lookup> {
    let value = value.to_string();
    Some(if path.is(schema, "id", None) {
        Lookup::Id(value)
    } else if path.is(schema, "externalId", None) {
        Lookup::ExternalId(value)
    } else if user && path.is(schema, "userName", None) {
        Lookup::UserName(value)
    } else if user && (path.is(schema, "emails", None) || path.is(schema, "emails", Some("value")))
    {
        Lookup::Email {
            value,
            email_type: None,
        }
    } else if path.is(schema, "displayName", None) {
        Lookup::DisplayName(value)
    } else if !user
        && (path.is(schema, "members", None) || path.is(schema, "members", Some("value")))
    {
        Lookup::Member(value)
    } else {
        return None;
    })
}

/// The `name eq "text"` tests of a value filter joined by `and`, and whether that is all
/// it says; `None` if it is not such a conjunction (the value path then needs a scan
/// unless an `and` around it has a key).
fn equalities(filter: &Filter) -> Option<(Vec<(&str, &str)>, bool)> {
    match filter {
        Filter::Attr {
            path,
            test: Test::Compare(CompareOp::Eq, CompValue::String(value)),
        } if path.urn.is_none() && path.sub.is_none() => {
            Some((vec![(path.name.as_str(), value.as_str())], true))
        }
        Filter::And(a, b) => match (equalities(a), equalities(b)) {
            (Some((mut x, ex)), Some((y, ey))) => {
                x.extend(y);
                Some((x, ex && ey))
            }
            // Another test beside the equalities only narrows the match.
            (Some((x, _)), None) | (None, Some((x, _))) => Some((x, false)),
            (None, None) => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{GROUP, ResourceType, USER};

    fn plan_for(rt: &'static ResourceType, text: &str) -> Option<Plan> {
        plan(&CompiledFilter::parse(text, rt).unwrap())
    }

    fn email(value: &str, email_type: Option<&str>) -> Lookup {
        Lookup::Email {
            value: value.into(),
            email_type: email_type.map(str::to_string),
        }
    }

    #[test]
    fn provider_lookups_are_keys() {
        let exact = |lookup: Lookup| {
            Some(Plan {
                lookups: vec![lookup],
                exact: true,
            })
        };
        assert_eq!(
            plan_for(&USER, "userName eq \"Test.User@okta.local\""),
            exact(Lookup::UserName("Test.User@okta.local".into()))
        );
        assert_eq!(
            plan_for(&USER, "externalId eq \"00ujl29u0le5T6Aj10h7\""),
            exact(Lookup::ExternalId("00ujl29u0le5T6Aj10h7".into()))
        );
        assert_eq!(
            plan_for(&USER, "emails[type eq \"work\"].value eq \"a@b.c\""),
            exact(email("a@b.c", Some("work")))
        );
        assert_eq!(
            plan_for(&USER, "emails[value eq \"a@b.c\" and type eq \"work\"]"),
            exact(email("a@b.c", Some("work")))
        );
        assert_eq!(
            plan_for(&USER, "emails.value eq \"a@b.c\""),
            exact(email("a@b.c", None))
        );
        assert_eq!(
            plan_for(
                &USER,
                "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"x\""
            ),
            exact(Lookup::UserName("x".into()))
        );
        assert_eq!(
            plan_for(&GROUP, "displayName eq \"Tour Guides\""),
            exact(Lookup::DisplayName("Tour Guides".into()))
        );
        assert_eq!(
            plan_for(&GROUP, "members[value eq \"u1\"]"),
            exact(Lookup::Member("u1".into()))
        );
    }

    #[test]
    fn combinations_pick_the_narrowest_key_or_the_union() {
        let plan = plan_for(&GROUP, "displayName eq \"G\" and id eq \"g1\"").unwrap();
        assert_eq!(
            plan,
            Plan {
                lookups: vec![Lookup::Id("g1".into())],
                exact: false
            }
        );
        let plan = plan_for(&USER, "userName eq \"a\" or emails.value eq \"b@c.d\"").unwrap();
        assert_eq!(
            plan,
            Plan {
                lookups: vec![Lookup::UserName("a".into()), email("b@c.d", None)],
                exact: true
            }
        );
        let plan = plan_for(
            &USER,
            "emails[type eq \"work\" and primary eq true].value eq \"a@b.c\"",
        )
        .unwrap();
        assert!(!plan.exact);
        for scan in [
            "userName sw \"a\"",
            "not (userName eq \"a\")",
            "userName eq \"a\" or active eq true",
            "emails[type eq \"work\"]",
            "userName pr",
        ] {
            assert_eq!(plan_for(&USER, scan), None, "{scan}");
        }
    }

    #[test]
    fn keys_fold_only_where_case_is_ignored() {
        assert_eq!(Lookup::UserName("BJensen".into()).key(), "bjensen");
        assert_eq!(Lookup::ExternalId("BJensen".into()).key(), "BJensen");
    }
}
