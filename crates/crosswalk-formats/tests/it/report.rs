//! The report writers.

use crosswalk_core::report::REPORT_COLUMNS;
use crosswalk_core::{IdentityKind, ReportRow, Resolution};
use crosswalk_formats::report::defuse_formula;
use crosswalk_formats::{write_report_csv, write_report_json, write_report_jsonl};

fn row(display_name: &str) -> ReportRow {
    ReportRow {
        kind: IdentityKind::Account,
        job: "jira".into(),
        source_id: "u1".into(),
        source_username: "jdoe".into(),
        source_name: "john.doe@acme.com".into(),
        source_display_name: display_name.into(),
        destination_id: "42".into(),
        destination_username: "john".into(),
        destination_name: "john.doe@acme.com".into(),
        destination_display_name: "John Doe".into(),
        resolution: Resolution::Id,
        message: "same id, \"42\"".into(),
    }
}

fn csv_of(rows: Vec<ReportRow>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    write_report_csv(rows, &mut out).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&out[..]);
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn csv_has_the_header_and_twelve_columns_in_order() {
    let records = csv_of(vec![row("John Doe"), row("Doe, John")]);
    assert_eq!(records[0], REPORT_COLUMNS);
    assert_eq!(records.len(), 3);
    assert_eq!(
        records[1],
        [
            "account",
            "jira",
            "u1",
            "jdoe",
            "john.doe@acme.com",
            "John Doe",
            "42",
            "john",
            "john.doe@acme.com",
            "John Doe",
            "ID",
            "same id, \"42\""
        ]
    );
    assert_eq!(records[2][5], "Doe, John");
}

#[test]
fn csv_defuses_formulas() {
    for dangerous in [
        "=HYPERLINK(\"http://evil\")",
        "+1",
        "-2+3",
        "@SUM(A1)",
        "\tx",
        "\rx",
    ] {
        let records = csv_of(vec![row(dangerous)]);
        assert_eq!(records[1][5], format!("'{dangerous}"), "{dangerous:?}");
    }
    for harmless in ["John", "", "a=b", " =1", "'quoted"] {
        assert_eq!(csv_of(vec![row(harmless)])[1][5], harmless);
    }
    assert_eq!(defuse_formula("-"), "'-");
}

#[test]
fn json_is_an_array_of_snake_case_objects() {
    let mut out = Vec::new();
    write_report_json(vec![row("=x"), row("b")], &mut out).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let rows = value.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["type"], "account");
    assert_eq!(rows[0]["resolution"], "ID");
    assert_eq!(
        rows[0]["source_display_name"], "=x",
        "JSON is for programs: values unchanged"
    );
    assert_eq!(rows[1]["destination_display_name"], "John Doe");
    let back: Vec<ReportRow> = serde_json::from_slice(&out).unwrap();
    assert_eq!(back, vec![row("=x"), row("b")]);

    let mut empty = Vec::new();
    write_report_json(Vec::<ReportRow>::new(), &mut empty).unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&empty).unwrap(),
        serde_json::json!([])
    );
}

#[test]
fn jsonl_is_one_object_per_line() {
    let mut out = Vec::new();
    write_report_jsonl((0..3).map(|i| row(&format!("n{i}"))), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let rows: Vec<ReportRow> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2].source_display_name, "n2");
}
