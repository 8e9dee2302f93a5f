//! `crosswalk report` with the report query: every filter, the search, sorting by any column
//! with keyset pages, counts, and the CSV export split into parts (a small part size set
//! through the hidden CROSSWALK_REPORT_PART_ROWS), with formula cells neutralised.

use crate::util::{Dir, csv_rows};

fn demo() -> Dir {
    let dir = Dir::new();
    dir.ok(&["demo"]);
    dir
}

/// The source ids of a CSV report's rows.
fn ids(csv: &str) -> Vec<String> {
    csv_rows(csv)
        .into_iter()
        .skip(1)
        .map(|row| row[2].clone())
        .collect()
}

fn json_rows(text: &str) -> Vec<serde_json::Value> {
    serde_json::from_str::<Vec<serde_json::Value>>(text).expect("a JSON array")
}

#[test]
fn every_filter_and_the_search_keep_exactly_their_rows() {
    let dir = demo();
    let all = ids(&dir.ok(&["report"]));
    assert_eq!(all.len(), 50);
    // Suggested: the demo plants one (Nadia Haddad's strong, clear candidate).
    assert_eq!(ids(&dir.ok(&["report", "--suggested"])), ["JIRAUSER10041"]);
    let suggested = json_rows(&dir.ok(&["report", "--suggested", "-f", "json"]));
    assert_eq!(suggested[0]["suggested"], true);
    // Ambiguous: every row shown is flagged ambiguous, and no other row is.
    let flagged = json_rows(&dir.ok(&["report", "--flagged", "-f", "json"]));
    let ambiguous: Vec<String> = flagged
        .iter()
        .filter(|row| {
            row["flags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "ambiguous")
        })
        .map(|row| row["source_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids(&dir.ok(&["report", "--ambiguous"])), ambiguous);
    assert!(
        flagged.len() > ambiguous.len(),
        "a look-alike is flagged but not ambiguous"
    );
    assert_eq!(ids(&dir.ok(&["report", "--flagged"])).len(), flagged.len());
    // Several resolutions at once, with a type.
    let rows = csv_rows(&dir.ok(&["report", "-r", "unresolved,exception", "-t", "group"]));
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[0] == "group" && (r[10] == "Unresolved" || r[10] == "Exception")),
        "{rows:?}"
    );
    assert_eq!(rows.len() - 1, 3, "{rows:?}");
    // Search: any case, source and destination fields alike.
    assert_eq!(
        ids(&dir.ok(&["report", "--search", "HADDAD"])),
        ["JIRAUSER10041"]
    );
    assert_eq!(
        ids(&dir.ok(&["report", "--search", "6d7294aeb028c50023b4bd5e"])).len(),
        1,
        "a destination id"
    );
    assert_eq!(
        ids(&dir.ok(&["report", "--search", "evil.example"])),
        ["JIRAUSER10013"],
        "a display name"
    );
    assert!(ids(&dir.ok(&["report", "--search", "no such text anywhere"])).is_empty());
    // Search and filters combine.
    let acme = ids(&dir.ok(&["report", "--search", "@acme.com", "-r", "email"]));
    assert!(!acme.is_empty() && acme.len() < all.len());
}

#[test]
fn pages_sorted_by_any_column_cover_every_row_once() {
    let dir = demo();
    for (column, index) in [
        ("source_display_name", 5),
        ("resolution", 10),
        ("destination_id", 6),
    ] {
        for order in ["asc", "desc"] {
            let mut seen: Vec<Vec<String>> = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let mut args = vec!["report", "--sort", column, "--order", order, "--limit", "7"];
                if let Some(cursor) = &after {
                    args.extend(["--after", cursor.as_str()]);
                }
                let out = dir.crosswalk(&args);
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let rows = csv_rows(&String::from_utf8(out.stdout).unwrap());
                assert_eq!(rows[0][0], "Type", "every page has its header");
                assert!(rows.len() - 1 <= 7);
                seen.extend(rows.into_iter().skip(1));
                let stderr = String::from_utf8(out.stderr).unwrap();
                match stderr.trim().strip_prefix("next page: --after ") {
                    Some(cursor) => after = Some(cursor.to_string()),
                    None => {
                        assert_eq!(stderr.trim(), "last page");
                        break;
                    }
                }
            }
            assert_eq!(seen.len(), 50, "{column} {order}");
            // In the column's order (a neutralised cell compares as its value).
            let unquote = |cell: &String| match cell.strip_prefix('\'') {
                Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => {
                    rest.to_string()
                }
                _ => cell.clone(),
            };
            let values: Vec<String> = seen.iter().map(|row| unquote(&row[index])).collect();
            let mut sorted = values.clone();
            sorted.sort();
            if order == "desc" {
                sorted.reverse();
            }
            assert_eq!(values, sorted, "{column} {order}");
            let mut unique: Vec<&String> = seen.iter().map(|row| &row[2]).collect();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), 50, "no row twice: {column} {order}");
        }
    }
    // A sorted whole report (no --limit) is the pages joined.
    let sorted = ids(&dir.ok(&["report", "--sort", "source_username", "--order", "desc"]));
    let page = ids(&dir.ok(&[
        "report",
        "--sort",
        "source_username",
        "--order",
        "desc",
        "--limit",
        "10",
    ]));
    assert_eq!(sorted.len(), 50);
    assert_eq!(sorted[..10], page[..]);
}

#[test]
fn counts_follow_the_filters() {
    let dir = demo();
    let counts: serde_json::Value = serde_json::from_str(&dir.ok(&[
        "report", "--counts", "-f", "json", "-t", "group", "-r", "name",
    ]))
    .unwrap();
    assert_eq!(counts["matching"], 5);
    let per: Vec<(String, u64)> = counts["resolutions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["resolution"].as_str().unwrap().to_string(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect();
    let groups: u64 = per.iter().map(|(_, n)| n).sum();
    assert_eq!(groups, 8, "every group, whatever its resolution: {per:?}");
    let text = dir.ok(&["report", "--counts", "--suggested"]);
    assert!(text.starts_with("1 rows match"), "{text}");
}

#[test]
fn a_large_export_is_split_into_parts_each_with_its_header_and_safe_cells() {
    let dir = demo();
    let out = dir
        .command()
        .args(["report", "-o", "mappings.csv"])
        .env("CROSSWALK_REPORT_PART_ROWS", "20")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("split into 3 parts")
            && stderr.contains("mappings-1.csv")
            && stderr.contains("mappings-3.csv"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("mappings.csv").exists(),
        "the first part was renamed, not left twice"
    );
    let whole = csv_rows(&dir.ok(&["report"]));
    let mut joined = vec![whole[0].clone()];
    for (part, rows) in [(1, 20), (2, 20), (3, 10)] {
        let text =
            std::fs::read_to_string(dir.path().join(format!("mappings-{part}.csv"))).unwrap();
        let parsed = csv_rows(&text);
        assert_eq!(parsed[0], whole[0], "part {part} has the header");
        assert_eq!(parsed.len() - 1, rows, "part {part}");
        joined.extend(parsed.into_iter().skip(1));
    }
    assert_eq!(
        joined, whole,
        "the parts are the report, in order, each row once"
    );
    // The planted formula is neutralised in the part that holds it.
    let miller = whole.iter().find(|row| row[2] == "JIRAUSER10013").unwrap();
    assert!(miller[5].starts_with("'=HYPERLINK("), "{miller:?}");
    // Within the limit, one file under the name given, and nothing said.
    let out = dir
        .command()
        .args(["report", "-o", "small.csv", "-t", "group"])
        .env("CROSSWALK_REPORT_PART_ROWS", "20")
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        csv_rows(&std::fs::read_to_string(dir.path().join("small.csv")).unwrap()).len(),
        9
    );
}

#[test]
fn bad_query_values_say_what_to_use() {
    let dir = demo();
    let error = dir.fails(&["report", "--sort", "colour"]);
    assert!(
        error.contains("unknown column \"colour\"") && error.contains("source_display_name"),
        "{error}"
    );
    let error = dir.fails(&["report", "--limit", "5", "--after", "not-a-cursor"]);
    assert!(error.contains("not a report cursor"), "{error}");
    let error = dir.fails(&["report", "--limit", "0"]);
    assert!(error.contains("0"), "{error}");
    // A cursor of one sort does not continue another.
    let out = dir.crosswalk(&["report", "--sort", "job", "--limit", "5"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    let cursor = stderr
        .trim()
        .strip_prefix("next page: --after ")
        .unwrap()
        .to_string();
    let error = dir.fails(&["report", "--limit", "5", "--after", &cursor]);
    assert!(error.contains("start again from the first page"), "{error}");
}
