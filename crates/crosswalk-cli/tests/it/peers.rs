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
