//! `crosswalk run --source ldap://…` end to end against a real OpenLDAP slapd (the harness
//! `crosswalk-ldap`'s tests start, shared through `#[path]`): the bind DN and password from
//! the environment or a file, never the command line; a refused bind is a clear error, a
//! non-zero exit, and leaves the scope as it was.

#[path = "../../../crosswalk-ldap/tests/support/slapd.rs"]
mod slapd;

use std::process::Output;

use crate::util::*;
use slapd::*;

/// More people than the reader may see in one search: the read must page.
const MANY: usize = 120;

const DESTINATION: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,cloud-jdoe,,john.doe@example.com,,John Doe,John,Doe,true,,true,,,
account,cloud-zoe,,zoe@example.com,,Zoë Ångström,Zoë,Ångström,true,,true,,,
account,cloud-ada,,ada@example.com,,Ada Admin,Ada,Admin,true,,true,,,
group,cloud-everyone,,,,,,,,,,everyone,,
";

/// `crosswalk run -s <url> …` with the bind DN and password in the environment (or none).
fn run_ldap(dir: &Dir, url: &str, env: Option<(&str, &str)>, extra: &[&str]) -> Output {
    let mut command = dir.command();
    command
        .env_remove("CROSSWALK_LDAP_BIND_DN")
        .env_remove("CROSSWALK_LDAP_PASSWORD");
    if let Some((dn, password)) = env {
        command
            .env("CROSSWALK_LDAP_BIND_DN", dn)
            .env("CROSSWALK_LDAP_PASSWORD", password);
    }
    command
        .args(["run", "-s", url, "-d", "cloud.csv", "--job", "ldap-wave"])
        .args(["--ldap-base", SUFFIX, "--ldap-page-size", "25"])
        .args(extra)
        .output()
        .expect("run crosswalk")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// (source username, destination id, resolution) of every account row of the report.
fn accounts(dir: &Dir) -> Vec<(String, String, String)> {
    csv_rows(&dir.ok(&["report", "--type", "account"]))
        .into_iter()
        .skip(1)
        .map(|row| (row[3].clone(), row[6].clone(), row[10].clone()))
        .collect()
}

#[test]
fn run_reads_a_live_directory_with_the_bind_from_the_environment_or_a_file() {
    let Some(server) = Slapd::start(&sample_ldif(MANY)) else {
        return;
    };
    let dir = Dir::new();
    dir.write("cloud.csv", DESTINATION);

    let out = run_ldap(&dir, &server.url, Some((READER_DN, READER_PASSWORD)), &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        !stdout.contains(READER_PASSWORD) && !stderr.contains(READER_PASSWORD),
        "the password is never printed:\n{stdout}\n{stderr}"
    );
    let rows = accounts(&dir);
    assert_eq!(
        rows.len(),
        2 + MANY + 3,
        "every person, past the server's size limit of {SIZE_LIMIT}: {rows:?}"
    );
    let row = |username: &str| {
        rows.iter()
            .find(|(u, _, _)| u == username)
            .unwrap_or_else(|| panic!("{username} in {rows:?}"))
    };
    assert_eq!(row("jdoe").1, "cloud-jdoe");
    assert_eq!(row("zoe").1, "cloud-zoe", "the accented person links");
    assert_eq!(
        row("ada").1,
        "cloud-ada",
        "the AD user by its SMTP: primary"
    );
    assert_eq!(row("user00042").2, "Unresolved", "{:?}", row("user00042"));
    let groups = csv_rows(&dir.ok(&["report", "--type", "group"]));
    assert!(
        groups
            .iter()
            .any(|g| g[4] == "everyone" && g[6] == "cloud-everyone"),
        "{groups:?}"
    );

    // The same read with the bind in a file: the same directory, so nothing changes.
    let file = dir.write("bind.txt", &format!("{READER_DN}\n{READER_PASSWORD}\n"));
    let out = run_ldap(
        &dir,
        &server.url,
        None,
        &["--ldap-credentials", file.to_str().unwrap()],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("0 changed"), "{stdout}");
}

#[test]
fn a_wrong_password_is_a_clear_error_and_changes_nothing() {
    let Some(server) = Slapd::start(&sample_ldif(3)) else {
        return;
    };
    let dir = Dir::new();
    dir.write("cloud.csv", DESTINATION);

    // Nothing stored yet: a refused bind leaves no store behind.
    let out = run_ldap(
        &dir,
        &server.url,
        Some((READER_DN, "not-the-password")),
        &[],
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        stderr.contains(&server.url)
            && stderr.contains("bind")
            && stderr.contains(READER_DN)
            && stderr.contains("check the bind DN and password"),
        "the error names the server, the bind DN and what to check: {stderr}"
    );
    assert!(
        !stderr.contains("not-the-password"),
        "the password is never printed: {stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "an error, not a panic: {stderr}"
    );

    // After a good run, a refused bind leaves the scope's mappings as they were.
    let out = run_ldap(&dir, &server.url, Some((READER_DN, READER_PASSWORD)), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let before = dir.ok(&["report"]);
    let file = dir.write("bind.txt", &format!("{READER_DN}\nwrong-in-a-file\n"));
    let out = run_ldap(
        &dir,
        &server.url,
        None,
        &["--ldap-credentials", file.to_str().unwrap()],
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("check the bind DN and password") && !stderr.contains("wrong-in-a-file"),
        "{stderr}"
    );
    assert_eq!(dir.ok(&["report"]), before, "the scope is unchanged");

    // Only one of the two variables: said before connecting.
    let mut command = dir.command();
    let out = command
        .env("CROSSWALK_LDAP_BIND_DN", READER_DN)
        .env_remove("CROSSWALK_LDAP_PASSWORD")
        .args(["run", "-s", &server.url, "-d", "cloud.csv"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("CROSSWALK_LDAP_PASSWORD is not"),
        "{stderr}"
    );

    // A user and password in the URL are refused, not used.
    let userinfo = server
        .url
        .replace("ldap://", "ldap://reader:reader-secret-4711@");
    let out = run_ldap(&dir, &userinfo, None, &[]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("never on the command line") && !stderr.contains(READER_PASSWORD),
        "{stderr}"
    );
}
