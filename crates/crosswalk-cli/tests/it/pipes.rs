//! Every command ends quietly with success when the reader of its output goes away, as
//! `crosswalk eval --generate 2000 | head -1` does.

use std::process::Stdio;

use crate::util::*;

/// Runs `crosswalk <args>` with standard output a pipe whose reader is closed at once.
fn with_closed_stdout(dir: &Dir, args: &[&str]) -> std::process::Output {
    let mut child = dir
        .command()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run crosswalk");
    // The reader goes away before the command has written anything.
    drop(child.stdout.take());
    child.wait_with_output().expect("wait for crosswalk")
}

#[test]
fn every_command_ends_quietly_when_its_reader_goes_away() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    dir.write("policy.toml", POLICY_TOML);
    dir.ok(&[
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "-p",
        "policy.toml",
        "--job",
        "j",
    ]);
    let commands: [&[&str]; 18] = [
        &[
            "scope",
            "create",
            "acme",
            "--source-label",
            "jira-server x",
            "--destination-label",
            "cloud y",
        ],
        &["scope", "list"],
        &["scope", "show", "default"],
        &["scope", "retention", "identity:user", "forever"],
        &["history", "jdoe"],
        &["changes"],
        &["purge", "--namespace", "identity:user", "--dry-run"],
        &["eval", "--generate", "2000"],
        &["eval", "--generate", "300", "--format", "json"],
        &["explain", "--job", "j", "JIRAUSER1"],
        &["jobs"],
        &[
            "transforms",
            "preview",
            "-s",
            "source.csv",
            "-d",
            "destination.csv",
            "-p",
            "policy.toml",
        ],
        &["report", "--job", "j"],
        &["report", "--job", "j", "--format", "json"],
        &["generate", "-n", "50", "-o", "gen"],
        &[
            "run",
            "-s",
            "source.csv",
            "-d",
            "destination.csv",
            "-p",
            "policy.toml",
            "--job",
            "k",
        ],
        &["demo"],
        &["bench", "--accounts", "200", "--repeat", "1"],
    ];
    for args in commands {
        let output = with_closed_stdout(&dir, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "crosswalk {args:?} failed: {stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "crosswalk {args:?} said: {stderr}"
        );
    }
    // The work itself was done: the second run was stored.
    assert!(dir.ok(&["jobs"]).lines().any(|line| line.starts_with('k')));
}
