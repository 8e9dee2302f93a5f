//! Bearer tokens: `cw_<public id>_<secret>`. The public id finds the token's row and is what
//! logs show; only the SHA-256 of the secret is stored, and it is compared in constant time.
//! A secret is 32 random bytes, so a plain hash (no slow KDF) is enough: there is nothing to
//! guess from it.

use std::sync::Arc;

use crosswalk_app::Caller;
use crosswalk_store::scope::{NewToken, Role, TokenRow, TokenStore, content_hash};
use rand::RngCore;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::error::ApiError;
use axum::http::StatusCode;

const PREFIX: &str = "cw_";
const PUBLIC_ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

/// A token just made: the whole text, shown once, and its row.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// `cw_<public id>_<secret>`: give it to the caller; it is not kept anywhere.
    pub token: String,
    pub row: TokenRow,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_hex(length: usize) -> String {
    let mut bytes = vec![0u8; length];
    // ThreadRng is a CSPRNG seeded from the operating system.
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// Splits `cw_<public id>_<secret>`; `None` for anything else.
pub fn parse(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let (public_id, secret) = rest.split_once('_')?;
    let is_hex = |text: &str, bytes: usize| {
        text.len() == bytes * 2 && text.bytes().all(|b| b.is_ascii_hexdigit())
    };
    (is_hex(public_id, PUBLIC_ID_BYTES) && is_hex(secret, SECRET_BYTES))
        .then_some((public_id, secret))
}

/// Makes and stores a token for `scope` (`None`: an instance admin token, whose role is
/// always admin). The text is returned once and never stored.
pub async fn issue(
    store: &dyn TokenStore,
    scope: Option<&str>,
    role: Role,
    label: &str,
    created_by: &str,
    at: OffsetDateTime,
) -> Result<IssuedToken, crosswalk_store::scope::ScopeError> {
    let public_id = random_hex(PUBLIC_ID_BYTES);
    let secret = random_hex(SECRET_BYTES);
    let new = NewToken {
        public_id: public_id.clone(),
        scope: scope.map(str::to_string),
        role: if scope.is_none() { Role::Admin } else { role },
        label: label.to_string(),
        secret_hash: content_hash(secret.as_bytes()),
        created_at: at,
        created_by: created_by.to_string(),
    };
    let row = store.create_token(&new).await?;
    Ok(IssuedToken {
        token: format!("{PREFIX}{public_id}_{secret}"),
        row,
    })
}

/// Who a request's token says it is.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token: TokenRow,
}

impl Principal {
    pub fn public_id(&self) -> &str {
        &self.token.public_id
    }

    pub fn is_instance_admin(&self) -> bool {
        self.token.scope.is_none()
    }

    /// Whether the token may see `scope` at all.
    pub fn sees(&self, scope: &str) -> bool {
        self.token.scope.as_deref().is_none_or(|own| own == scope)
    }

    /// Refuses a scope the token may not see exactly as a missing scope is refused.
    pub fn check_scope(&self, scope: &str) -> Result<(), ApiError> {
        if self.sees(scope) {
            Ok(())
        } else {
            Err(ApiError::scope_not_found(scope))
        }
    }

    /// At least `role` in its scope (the instance admin has every role everywhere).
    pub fn check_role(&self, role: Role) -> Result<(), ApiError> {
        if self.is_instance_admin() || self.token.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this token is a {} token; this needs a {role} token of the scope (crosswalk token create --scope S --role {role})",
                self.token.role
            )))
        }
    }

    pub fn check_instance_admin(&self) -> Result<(), ApiError> {
        if self.is_instance_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "this needs the instance admin token (crosswalk token create --instance-admin)",
            ))
        }
    }

    /// The application layer's caller for this token: bound to its scope, writing only
    /// with the writer or admin role.
    pub fn caller(&self) -> Result<Caller, ApiError> {
        self.caller_as("api")
    }

    /// [`Principal::caller`], recorded as asking through `program` (`api`, `ui`).
    pub fn caller_as(&self, program: &str) -> Result<Caller, ApiError> {
        let actor = format!("token:{}", self.token.public_id);
        let caller = match &self.token.scope {
            None => Caller::every_scope(&actor, program),
            Some(scope) => Caller::scoped(&actor, program, scope, self.token.role >= Role::Writer),
        };
        caller.map_err(ApiError::from)
    }
}

fn unauthorized(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// Checks an `Authorization` header's value. Every failure is a 401 that does not say
/// whether the public id exists.
pub async fn authenticate(
    store: &Arc<dyn TokenStore>,
    header: Option<&str>,
) -> Result<Principal, ApiError> {
    let Some(header) = header else {
        return Err(unauthorized(
            "missing_token",
            "this needs a bearer token: send Authorization: Bearer cw_...",
        ));
    };
    let invalid = || {
        unauthorized(
            "invalid_token",
            "the bearer token is not valid (mistyped, revoked, or from another server); ask for a new one",
        )
    };
    let value = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or_else(|| {
            unauthorized(
                "missing_token",
                "the Authorization header is not a bearer token: send Authorization: Bearer cw_...",
            )
        })?;
    let (public_id, secret) = parse(value.trim()).ok_or_else(invalid)?;
    let record = match store.token(public_id).await {
        Ok(record) => record,
        Err(error) if error.kind() == crosswalk_store::scope::ErrorKind::NotFound => {
            return Err(invalid());
        }
        Err(error) => return Err(error.into()),
    };
    let presented = content_hash(secret.as_bytes());
    let matches: bool = presented
        .as_bytes()
        .ct_eq(record.secret_hash.as_bytes())
        .into();
    if !matches || record.token.revoked_at.is_some() {
        tracing::info!(token = public_id, "refused a bearer token");
        return Err(invalid());
    }
    Ok(Principal {
        token: record.token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_shape_parses() {
        let good = format!("cw_{}_{}", "a1".repeat(8), "0f".repeat(32));
        assert!(parse(&good).is_some());
        for bad in [
            "",
            "cw_",
            "cw_abc_def",
            &good[1..],
            &format!("{good}0"),
            &good.replace("cw_", "xx_"),
            &good
                .to_uppercase()
                .replacen("CW_", "cw_", 1)
                .replace('A', "g"),
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn made_tokens_differ_and_parse() {
        let (a, b) = (random_hex(SECRET_BYTES), random_hex(SECRET_BYTES));
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
    }
}
