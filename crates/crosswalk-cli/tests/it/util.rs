//! A temp folder and a command builder for the real binary (after ripgrep's `tests/util.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) struct Dir {
    root: tempfile::TempDir,
    /// A database URL every command gets as CROSSWALK_DATABASE_URL, in place of the store file.
    database: Option<String>,
}

impl Dir {
    pub(crate) fn new() -> Dir {
        Dir {
            root: tempfile::tempdir().expect("temp dir"),
            database: None,
        }
    }

    /// A temp dir whose commands use the database at `url` (CROSSWALK_DATABASE_URL).
    pub(crate) fn on_database(url: &str) -> Dir {
        Dir {
            database: Some(url.to_string()),
            ..Dir::new()
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.root.path()
    }

    pub(crate) fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.root.path().join(name);
        std::fs::write(&path, contents).expect("write fixture");
        path
    }

    pub(crate) fn store(&self) -> PathBuf {
        self.root.path().join("store.sqlite")
    }

    /// `crosswalk <args>` run in the temp dir, with `CROSSWALK_STORE=<dir>/store.sqlite`: the
    /// commands that open a store use that one, the others take no `--store` at all.
    pub(crate) fn crosswalk(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run crosswalk")
    }

    /// The binary, run in the temp dir with its store there.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_crosswalk"));
        // A database URL in the environment would take the place of the store file; revisions
        // record the login name, fixed here.
        command
            .current_dir(self.root.path())
            .env("CROSSWALK_STORE", self.store())
            .env_remove("CROSSWALK_DATABASE_URL")
            .env("USER", "tester")
            // `crosswalk demo` serves the web UI until stopped; tests that want it say so.
            .env("CROSSWALK_DEMO_NO_SERVE", "true");
        if let Some(url) = &self.database {
            command.env("CROSSWALK_DATABASE_URL", url);
        }
        command
    }

    /// Runs and insists on success; returns stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.crosswalk(args);
        assert!(
            out.status.success(),
            "crosswalk {args:?} failed:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Runs and insists on failure; returns stderr.
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let out = self.crosswalk(args);
        assert!(
            !out.status.success(),
            "crosswalk {args:?} should have failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).expect("utf-8 output")
    }
}

/// Parses a report CSV into rows of fields (header included).
pub(crate) fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| r.expect("valid csv").iter().map(str::to_string).collect())
        .collect()
}

pub(crate) const SOURCE_CSV: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,JIRAUSER1,jdoe,John.Doe@ACME.com,,John Doe,John,Doe,true,internal,,,,
account,JIRAUSER2,msmith,maria@acme-corp.com,,Maria Smith,Maria,Smith,true,ldap,,,,
account,JIRAUSER3,helpdesk,support@acme.com,,Support A,,,true,internal,,,,
account,JIRAUSER4,helpdesk2,support@acme.com,,Support B,,,true,internal,,,,
account,JIRAUSER5,guest,guest@partner.example,,Guest User,,,true,internal,,,,
account,JIRAUSER6,ghost,ghost@acme.com,,=HYPERLINK(\"http://x\"),,,true,internal,,,,
group,G1,,,,,,,,,,developers,,
member,,,,,,,,,,,,G1,JIRAUSER1
";

pub(crate) const DESTINATION_CSV: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,5b10a001,,john.doe@acme.com,,John Doe,John,Doe,true,,true,,,
account,5b10a002,,maria@acme.com,,Maria Smith,Maria,Smith,true,,true,,,
account,5b10a003,,support@acme.com,,Support,,,true,,true,,,
group,c1,,,,,,,,,,Developers,,
";

pub(crate) const POLICY_TOML: &str = "\
[email]
domain_aliases = { \"acme-corp.com\" = \"acme.com\" }

[fallback]
external_domains = [\"partner.example\"]
";
