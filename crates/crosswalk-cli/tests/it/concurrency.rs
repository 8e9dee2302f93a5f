//! Several `crosswalk` processes on one store file at once, as a script or a CI matrix
//! starts them.

use std::process::Stdio;

use crate::util::*;

/// Six first runs started together on a store file that does not exist yet all create
/// it, migrate it once between them, and are all recorded: runs 1 to 6 of the job.
#[test]
fn first_runs_started_together_on_a_new_store_all_succeed() {
    const RUNS: usize = 6;
    // A few rounds, each on a new file: the race is in the first moments of a store's life.
    for round in 0..3 {
        let dir = Dir::new();
        dir.write("source.csv", SOURCE_CSV);
        dir.write("destination.csv", DESTINATION_CSV);
        dir.write("policy.toml", POLICY_TOML);
        assert!(!dir.store().exists());
        let children: Vec<_> = (0..RUNS)
            .map(|_| {
                dir.command()
                    .args([
                        "run",
                        "-s",
                        "source.csv",
                        "-d",
                        "destination.csv",
                        "-p",
                        "policy.toml",
                        "--job",
                        "wave-1",
                    ])
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("start crosswalk")
            })
            .collect();
        let mut printed = Vec::new();
        for child in children {
            let out = child.wait_with_output().expect("wait for crosswalk");
            assert!(
                out.status.success(),
                "round {round}: a concurrent first run failed:\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8(out.stdout).unwrap();
            let number = stdout
                .split(", run ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next());
            printed.push(number.expect("the run's number").parse::<u32>().unwrap());
        }
        printed.sort_unstable();
        assert_eq!(
            printed,
            [1, 2, 3, 4, 5, 6],
            "round {round}: each process says its own run's number"
        );
        let jobs = dir.ok(&["jobs"]);
        let numbers: Vec<&str> = jobs
            .lines()
            .filter_map(|line| line.split("run").nth(1)?.split_whitespace().next())
            .collect();
        assert_eq!(
            numbers,
            ["1", "2", "3", "4", "5", "6"],
            "round {round}: every run recorded once:\n{jobs}"
        );
    }
}

/// Runs started together with the same exceptions file all land, whichever syncs the
/// scope's rules first: a run whose rules changed under it while it resolved (another run
/// was adding the same rules one by one) resolves again rather than fail for its timing.
#[test]
fn runs_started_together_with_the_same_exceptions_all_succeed() {
    const RUNS: usize = 4;
    let dir = Dir::new();
    dir.ok(&["generate", "-n", "3000", "-o", "gen"]);
    let rules: String = (0..20)
        .map(|n| format!("account,id:nobody-{n},id:nobody\n"))
        .collect();
    dir.write(
        "exceptions.csv",
        &format!("type,source,destination\n{rules}"),
    );
    for round in 0..2 {
        let children: Vec<_> = (0..RUNS)
            .map(|n| {
                dir.command()
                    .args([
                        "run",
                        "-s",
                        "gen/source.csv",
                        "-d",
                        "gen/destination.csv",
                        "-p",
                        "gen/policy.toml",
                    ])
                    .args([
                        "-e",
                        "exceptions.csv",
                        "--scope",
                        &format!("s{round}"),
                        "--job",
                        &format!("wave-{n}"),
                    ])
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("start crosswalk")
            })
            .collect();
        if round == 0 {
            // The scope does not exist: every run is refused, none creates it.
            for child in children {
                assert!(!child.wait_with_output().unwrap().status.success());
            }
            dir.ok(&[
                "scope",
                "create",
                "s1",
                "--source-label",
                "jira x",
                "--destination-label",
                "cloud y",
            ]);
            continue;
        }
        for child in children {
            let out = child.wait_with_output().expect("wait for crosswalk");
            assert!(
                out.status.success(),
                "a concurrent run failed:\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let jobs = dir.ok(&["jobs", "--scope", "s1"]);
        assert_eq!(
            jobs.lines().filter(|l| l.contains(" run ")).count(),
            RUNS,
            "{jobs}"
        );
        let show = dir.ok(&["scope", "show", "s1"]);
        assert!(show.contains("exceptions:  20 rules"), "{show}");
    }
}
