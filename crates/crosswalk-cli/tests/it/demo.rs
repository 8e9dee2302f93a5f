//! `crosswalk demo` exercises every resolution the bundled policy allows.

use crate::util::*;

#[test]
fn demo_runs_and_the_report_has_every_planted_case() {
    let dir = Dir::new();
    let out = dir.ok(&["demo"]);
    assert!(out.contains("job \"demo\""), "{out}");
    let rows = csv_rows(&dir.ok(&["report", "--job", "demo"]));
    let resolutions: std::collections::BTreeSet<&str> = rows[1..].iter().map(|r| r[10].as_str()).collect();
    for expected in ["Exception", "Email", "ID", "Username", "Name", "External", "Unresolved"] {
        assert!(resolutions.contains(expected), "no {expected} in the demo report: {resolutions:?}");
    }
    assert!(rows[1..].iter().any(|r| r[11].contains("confusable")), "the demo plants a look-alike");
}
