//! Platform exports in, peer tools' mapping files out and back in (issue 20), through the binary.

use crate::util::*;

fn exports(name: &str) -> String {
    format!(
        "{}/../../testdata/exports/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// (source id, destination id) of every account row of the report.
fn decisions(dir: &Dir) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = csv_rows(&dir.ok(&["report", "--type", "account"]))
        .into_iter()
        .skip(1)
        .map(|row| (row[2].clone(), row[6].clone()))
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn ad_and_entra_exports_run_and_every_peer_file_reads_back_as_the_same_decisions() {
    let dir = Dir::new();
    let (source, destination) = (
        exports("ad-users-utf16.csv"),
        exports("entra-download-users.csv"),
    );
    dir.ok(&["run", "-s", &source, "-d", &destination, "--job", "wave-1"]);
    let before = decisions(&dir);
    assert!(
        before
            .iter()
            .any(|(s, d)| s == "0b5f6c1e-9a8b-4c7d-8e6f-5a4b3c2d1e0f"
                && d == "7f3b1c2e-4d5a-4b6c-8d9e-0a1b2c3d4e5f"),
        "{before:?}"
    );

    let out = dir.crosswalk(&["export", "--format", "spmt", "-o", "usermap.csv"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("without a destination (left out of the file)")
            && stderr.contains("account lperson (Unresolved)"),
        "{stderr}"
    );
    let spmt = std::fs::read_to_string(dir.path().join("usermap.csv")).unwrap();
    assert!(
        spmt.contains("zmuller,zoe.muller@acme.com,FALSE\n"),
        "{spmt}"
    );

    // Each file into a fresh store: the same run, then the file's rules, then the run again.
    for format in [
        "sharegate",
        "spmt",
        "dryviq",
        "jcma",
        "mover",
        "gwm",
        "movebot",
    ] {
        let dir = Dir::new();
        dir.ok(&["run", "-s", &source, "-d", &destination, "--job", "wave-1"]);
        let file = format!("{format}.csv");
        dir.ok(&["export", "--format", format, "-o", &file]);
        dir.ok(&["exceptions", "import", "--format", format, &file]);
        dir.ok(&["run", "-s", &source, "-d", &destination, "--job", "wave-1"]);
        assert_eq!(decisions(&dir), before, "{format}");
        let exceptions =
            csv_rows(&dir.ok(&["report", "--type", "account", "-r", "exception"])).len() - 1;
        assert_eq!(
            exceptions, 3,
            "{format}: the three mapped accounts are now explicit decisions"
        );
    }
}

#[test]
fn a_bad_mapping_file_stores_nothing_and_names_every_bad_row() {
    let dir = Dir::new();
    dir.ok(&[
        "run",
        "-s",
        &exports("google-users.csv"),
        "-d",
        &exports("atlassian-users.csv"),
        "--job",
        "w",
    ]);
    dir.write(
        "bad.csv",
        "SourceValue,DestinationValue\na@x.com,b@y.com\n,c@y.com\na@x.com,d@y.com\n",
    );
    let stderr = dir.fails(&["exceptions", "import", "--format", "sharegate", "bad.csv"]);
    assert!(
        stderr.contains("bad.csv:3: field \"source\": is empty"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad.csv:4: field \"source\"")
            && stderr.contains("already mapped on line 2"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was stored"), "{stderr}");
    let shown = dir.ok(&["scope", "show", "default"]);
    assert!(!shown.contains("a@x.com"), "{shown}");
}

#[test]
fn directory_convert_names_format_and_encoding_and_warns_about_mangled_columns() {
    let dir = Dir::new();
    dir.write("ansi.csv", "");
    std::fs::write(dir.path().join("ansi.csv"), b"First Name [Required],Last Name [Required],Email Address [Required]\r\nZo\xEB,M\xFCller,zoe@acme.com\r\n").unwrap();
    let converted = dir.ok(&[
        "directory",
        "convert",
        "--format",
        "google",
        "--encoding",
        "windows-1252",
        "ansi.csv",
    ]);
    assert!(
        converted.contains("account,zoe@acme.com,,,zoe@acme.com,,,Zoë,Müller,true"),
        "{converted}"
    );
    let out = dir.crosswalk(&[
        "directory",
        "convert",
        &exports("ad-users-mangled.csv"),
        "-o",
        "ad.csv",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert!(
        stderr.contains("warning: ") && stderr.contains("field \"proxyAddresses\""),
        "{stderr}"
    );
}

#[test]
fn run_warns_about_mangled_columns_on_standard_error() {
    let dir = Dir::new();
    let out = dir.crosswalk(&[
        "run",
        "-s",
        &exports("ad-users-mangled.csv"),
        "-d",
        &exports("entra-download-users.csv"),
        "--job",
        "w",
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: ")
            && stderr.contains("ad-users-mangled.csv:3: field \"GivenName\""),
        "{stderr}"
    );
}

#[test]
fn exceptions_import_is_one_transaction_a_bad_last_row_leaves_the_rules_as_they_were() {
    let dir = Dir::new();
    dir.ok(&[
        "run",
        "-s",
        &exports("google-users.csv"),
        "-d",
        &exports("atlassian-users.csv"),
        "--job",
        "w",
    ]);
    dir.write(
        "first.csv",
        "SourceValue,DestinationValue\nkeep@x.com,kept@y.com\n",
    );
    dir.ok(&["exceptions", "import", "--format", "sharegate", "first.csv"]);
    let before = dir.ok(&["scope", "show", "default"]);
    assert!(
        before.contains("keep@x.com -> kept@y.com") && before.contains("1 rules, version 1"),
        "{before}"
    );

    // The last row is refused by the reader (a source with no destination column)...
    dir.write(
        "bad-row.csv",
        "SourceValue,DestinationValue\na@x.com,a@y.com\nb@x.com,b@y.com\nc@x.com\n",
    );
    let stderr = dir.fails(&[
        "exceptions",
        "import",
        "--format",
        "sharegate",
        "bad-row.csv",
    ]);
    assert!(
        stderr.contains("bad-row.csv:4") && stderr.contains("nothing was stored"),
        "{stderr}"
    );
    assert_eq!(dir.ok(&["scope", "show", "default"]), before);

    // ...or only by the store (a destination over the 1024 bytes a key may have): the rows
    // before it are not stored either, and the rules keep their version.
    let long = "d".repeat(1100);
    dir.write(
        "bad-value.csv",
        &format!(
            "SourceValue,DestinationValue\na@x.com,a@y.com\nb@x.com,b@y.com\nc@x.com,{long}@y.com\n"
        ),
    );
    let stderr = dir.fails(&[
        "exceptions",
        "import",
        "--format",
        "sharegate",
        "bad-value.csv",
    ]);
    assert!(
        stderr.contains("longer than 1024 bytes") && stderr.contains("nothing was stored"),
        "{stderr}"
    );
    assert_eq!(dir.ok(&["scope", "show", "default"]), before);

    // A good file stores every row at once.
    dir.write(
        "good.csv",
        "SourceValue,DestinationValue\na@x.com,a@y.com\nb@x.com,b@y.com\n",
    );
    dir.ok(&["exceptions", "import", "--format", "sharegate", "good.csv"]);
    let after = dir.ok(&["scope", "show", "default"]);
    assert!(
        after.contains("3 rules") && after.contains("a@x.com -> a@y.com"),
        "{after}"
    );
}

#[test]
fn an_okta_export_folder_runs_and_converts() {
    let dir = Dir::new();
    dir.write(
        "cloud.csv",
        "type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member\n\
         account,c-zoe,,zoe.muller@acme.com,,Zoë Müller,Zoë,Müller,true,,true,,,\n\
         account,c-help,,helpdesk@acme.com,,Helpdesk,,,true,,true,,,\n\
         group,c-eng,,,,,,,,,,Ingénierie,,\n",
    );
    dir.ok(&[
        "run",
        "-s",
        &exports("okta"),
        "-d",
        "cloud.csv",
        "--job",
        "okta",
    ]);
    let rows = csv_rows(&dir.ok(&["report"]));
    let find = |id: &str| {
        rows.iter()
            .find(|r| r[2] == id)
            .unwrap_or_else(|| panic!("{id} in {rows:?}"))
    };
    assert_eq!(find("00ub0oNGTSWTBKOLGLNR")[6], "c-zoe");
    assert_eq!(
        find("00ub0oNGTSWTBKOMSUPP")[6],
        "c-help",
        "the shared mailbox by its secondEmail"
    );
    assert_eq!(find("00g1emaKYZTWRYYRRTSK")[6], "c-eng");

    let converted = dir.ok(&["directory", "convert", "--format", "okta", &exports("okta")]);
    assert!(
        converted.contains("member,,,,,,,,,,,,00g1emaKYZTWRYYRRTSK,00ub0oNGTSWTBKOLGLNR"),
        "{converted}"
    );
    dir.write(
        "broken.json",
        "[{\"id\": \"00u1\", \"profile\": {\"login\": 7}}]",
    );
    let stderr = dir.fails(&["run", "-s", "broken.json", "-d", "cloud.csv"]);
    assert!(
        stderr.contains("broken.json: /0/profile/login: expected a string, found a number (7)"),
        "{stderr}"
    );
}
