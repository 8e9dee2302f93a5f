//! Who is asking, and what they may touch. Every use case takes a [`Caller`]; the checks
//! live here and nowhere else, so the CLI and the server cannot disagree about them.

use crosswalk_store::scope::{ChangeContext, MAX_NAME_LEN, check_name};
use time::OffsetDateTime;

use crate::error::{AppError, AppResult};

/// Which scopes a caller may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Every scope, and creating new ones: the CLI, run by whoever holds the store.
    AllScopes,
    /// One scope only (a token issued for it): no other scope is visible, not even by name.
    Scope(String),
}

/// The actor of a request: who they are, which program asked, what they may reach, and
/// whether they may write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Recorded as the `who` of every revision and run: `cli:alice`, a token's name.
    actor: String,
    /// The program that asked: `cli`, `api`, an app key.
    program: String,
    access: Access,
    can_write: bool,
}

impl Caller {
    /// The command line, run by the operating system's user `user`: every scope, read and write.
    /// The user name comes from the environment: control characters are dropped and it is
    /// cut to a length the store accepts, so no login name can make every write fail.
    pub fn cli(user: &str) -> Caller {
        let user: String = user
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_NAME_LEN - 4)
            .collect();
        let user = if user.trim().is_empty() {
            "unknown"
        } else {
            user.trim()
        };
        Caller {
            actor: format!("cli:{user}"),
            program: "cli".to_string(),
            access: Access::AllScopes,
            can_write: true,
        }
    }

    /// A caller with every scope, read and write, that is not the command line: the server's
    /// instance admin token.
    pub fn every_scope(actor: &str, program: &str) -> AppResult<Caller> {
        check_name("caller", actor)?;
        check_name("program", program)?;
        Ok(Caller {
            actor: actor.to_string(),
            program: program.to_string(),
            access: Access::AllScopes,
            can_write: true,
        })
    }

    /// A caller bound to one scope (a token's holder), read-only unless `can_write`.
    pub fn scoped(actor: &str, program: &str, scope: &str, can_write: bool) -> AppResult<Caller> {
        check_name("caller", actor)?;
        check_name("program", program)?;
        check_name("scope", scope)?;
        Ok(Caller {
            actor: actor.to_string(),
            program: program.to_string(),
            access: Access::Scope(scope.to_string()),
            can_write,
        })
    }

    /// The same caller, without the right to write.
    pub fn read_only(mut self) -> Caller {
        self.can_write = false;
        self
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    pub fn access(&self) -> &Access {
        &self.access
    }

    /// Whether this caller may see `scope` at all.
    pub fn sees(&self, scope: &str) -> bool {
        match &self.access {
            Access::AllScopes => true,
            Access::Scope(own) => own == scope,
        }
    }

    /// Refuses a scope the caller is not bound to. The message does not say whether that
    /// scope exists.
    pub fn check_read(&self, scope: &str) -> AppResult<()> {
        if self.sees(scope) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "{} may not read scope {scope:?}: it is bound to another scope",
                self.actor
            )))
        }
    }

    pub fn check_write(&self, scope: &str) -> AppResult<()> {
        if !self.sees(scope) {
            return Err(AppError::forbidden(format!(
                "{} may not change scope {scope:?}: it is bound to another scope",
                self.actor
            )));
        }
        if !self.can_write {
            return Err(AppError::forbidden(format!(
                "{} may only read; changing scope {scope:?} needs write access",
                self.actor
            )));
        }
        Ok(())
    }

    /// Creating a scope needs access to every scope and the right to write.
    pub fn check_create_scope(&self, scope: &str) -> AppResult<()> {
        match (&self.access, self.can_write) {
            (Access::AllScopes, true) => Ok(()),
            _ => Err(AppError::forbidden(format!(
                "{} may not create scope {scope:?}: only a caller with access to every scope may",
                self.actor
            ))),
        }
    }

    /// Who and when, for the store.
    pub fn context(&self, at: OffsetDateTime) -> ChangeContext {
        ChangeContext {
            at,
            who: self.actor.clone(),
            caller: self.program.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn a_caller_bound_to_one_scope_cannot_touch_another() {
        let caller = Caller::scoped("token:wave-1", "api", "acme", true).unwrap();
        assert!(caller.check_read("acme").is_ok());
        assert!(caller.check_write("acme").is_ok());
        for error in [
            caller.check_read("globex"),
            caller.check_write("globex"),
            caller.check_create_scope("globex"),
        ] {
            assert_eq!(error.unwrap_err().kind(), ErrorKind::Forbidden);
        }
    }

    #[test]
    fn a_read_only_caller_reads_but_does_not_write() {
        let caller = Caller::cli("ann").read_only();
        assert!(caller.check_read("acme").is_ok());
        let error = caller.check_write("acme").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Forbidden);
        assert!(error.message().contains("may only read"), "{error}");
        assert_eq!(caller.actor(), "cli:ann");
    }

    #[test]
    fn a_blank_scope_or_actor_is_refused() {
        assert_eq!(
            Caller::scoped(" ", "api", "acme", false)
                .unwrap_err()
                .kind(),
            ErrorKind::Invalid
        );
        assert_eq!(
            Caller::scoped("t", "api", "", false).unwrap_err().kind(),
            ErrorKind::Invalid
        );
        assert_eq!(Caller::cli("").actor(), "cli:unknown");
        assert_eq!(Caller::cli("ann\n\u{7}").actor(), "cli:ann");
        assert!(check_name("caller", Caller::cli(&"x".repeat(5000)).actor()).is_ok());
    }
}
