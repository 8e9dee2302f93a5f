//! Items CSV, findings CSV and the edited findings read back as fixes.

use std::collections::BTreeMap;

use crosswalk_core::{Account, Directory, IdentityKind};
use crosswalk_formats::{read_fixes_csv, read_items_csv, write_findings_csv};
use crosswalk_plan::{CheckOptions, Fix, MergeRule, Role, run_checks, suggested_fixes};

#[test]
fn items_csv_reads_references_in_any_column_order() {
    let text = "Identity,Type,Role,Item,Container\nu-ana,account,creator,page-1,ENG\n\ng-all,group,permission,,ENG\n";
    let references = read_items_csv("items.csv", text.as_bytes()).unwrap();
    assert_eq!(references.len(), 2);
    assert_eq!(
        (references[0].role, references[0].item.as_deref()),
        (Role::Creator, Some("page-1"))
    );
    assert_eq!(
        (references[1].kind, references[1].item.as_deref()),
        (IdentityKind::Group, None)
    );
}

#[test]
fn items_csv_errors_name_file_line_and_field() {
    let cases = [
        (
            "container,item,role,type,identity\nENG,p,author?,account,u\n",
            "items.csv:2: field \"role\"",
        ),
        (
            "container,item,role,type,identity\nENG,p,creator,robot,u\n",
            "items.csv:2: field \"type\"",
        ),
        (
            "container,item,role,type,identity\nENG,,creator,account,u\n",
            "items.csv:2: field \"item\"",
        ),
        (
            "container,item,role,type,identity\n\nENG,p,creator,account,\n",
            "items.csv:3: field \"identity\"",
        ),
        (
            "container,item,role,identity\n",
            "items.csv:1: field \"type\"",
        ),
        ("", "items.csv:1"),
    ];
    for (text, expected) in cases {
        let error = read_items_csv("items.csv", text.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(error.starts_with(expected), "{text:?} gave {error}");
    }
}

fn source() -> Directory {
    let account = |id: &str, email: Option<&str>| Account {
        id: id.into(),
        username: Some(id.into()),
        email: email.map(Into::into),
        active: true,
        ..Account::default()
    };
    let accounts = vec![
        account("ana", Some("ana@example.com")),
        account("ana2", Some("ANA@example.com")),
        account("=bad", Some("nope")),
        account("none", None),
    ];
    Directory::new("s", accounts, vec![]).unwrap()
}

#[test]
fn findings_csv_starts_with_the_seven_known_columns_and_round_trips_the_fixes() {
    let source = source();
    let findings = run_checks(&source, None, &[], &CheckOptions::default());
    let suggested = suggested_fixes(
        &source,
        &findings,
        Some("{username}@new.example.com"),
        &MergeRule::default(),
        &Default::default(),
    );
    let mut out = Vec::new();
    write_findings_csv(&findings, &suggested, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("UserKey,UserName,ErrorType,OldEmail,NewEmail,Tombstone,AccountType,"),
        "{text}"
    );
    assert!(
        text.contains("'=bad"),
        "a formula-like key is defused: {text}"
    );
    let read: BTreeMap<String, Fix> = read_fixes_csv("findings.csv", text.as_bytes())
        .unwrap()
        .into_iter()
        .map(|row| (row.user_key, row.fix))
        .collect();
    assert_eq!(read, suggested);
}

#[test]
fn edited_findings_with_bad_rows_report_every_row_and_give_no_fixes() {
    let text = "UserKey,UserName,ErrorType,OldEmail,NewEmail,Tombstone,AccountType,Exclude,MergeInto\n\
                ana2,ana2,DUPLICATE_EMAIL,ANA@example.com,,false,account,false,ana\n\
                bad,bad,INVALID_EMAIL,nope,bad@new.example.com,true,account,false,\n\
                ,x,MISSING_EMAIL,,,maybe,account,false,\n\
                none,none,MISSING_EMAIL,,,true,account,false,\n\
                none,none,INACTIVE_USER,,,false,account,true,\n";
    let problems = read_fixes_csv("findings.csv", text.as_bytes()).unwrap_err();
    let located: Vec<String> = problems
        .iter()
        .map(|p| format!("{}:{}", p.location, p.field.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        located,
        [
            "findings.csv:3:Tombstone",
            "findings.csv:4:UserKey",
            "findings.csv:6:Exclude"
        ]
    );
    assert!(
        problems[2]
            .reason
            .contains("already has another fix on line 5"),
        "{}",
        problems[2].reason
    );
}
