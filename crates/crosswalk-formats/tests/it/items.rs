//! Item references: the CSV's optional columns and the JSON Lines form read into the same
//! references, and every class of bad input names its file, line and field.

use crosswalk_core::IdentityKind;
use crosswalk_formats::{
    ItemsFormat, read_items, read_items_csv, read_items_jsonl, write_safe_csv,
};
use crosswalk_plan::Role;

const CSV: &str = "container,container_type,item,item_type,title,role,type,identity,permissions\n\
ENG,space,page-1,page,Runbook,creator,account,u-ana,\n\
ENG,space,page-1,page,Runbook,Last Modifier,account,bo@example.com,\n\
ENG,space,,,,permission holder,group,g-eng,3\n\
OPS,project,OPS-1,issue,Broken,reporter,account,cy,\n\
OPS,project,OPS-1,issue,Broken,watcher,account,cy,\n";

const JSONL: &str = "{\"container\":\"ENG\",\"container_type\":\"space\",\"item\":\"page-1\",\"item_type\":\"page\",\"title\":\"Runbook\",\
\"references\":[{\"role\":\"creator\",\"type\":\"account\",\"identity\":\"u-ana\"},{\"role\":\"last_modifier\",\"type\":\"account\",\"identity\":\"bo@example.com\"}]}\n\
\n\
{\"container\":\"ENG\",\"container_type\":\"space\",\"references\":[{\"role\":\"permission\",\"type\":\"group\",\"identity\":\"g-eng\",\"permissions\":3}]}\n\
{\"container\":\"OPS\",\"container_type\":\"project\",\"item\":\"OPS-1\",\"item_type\":\"issue\",\"title\":\"Broken\",\
\"references\":[{\"role\":\"reporter\",\"type\":\"account\",\"identity\":\"cy\"},{\"role\":\"watcher\",\"type\":\"account\",\"identity\":\"cy\",\"permissions\":null}]}\n";

#[test]
fn csv_and_json_lines_read_the_same_references() {
    let from_csv = read_items_csv("items.csv", CSV.as_bytes()).unwrap();
    let from_jsonl = read_items_jsonl("items.jsonl", JSONL.as_bytes()).unwrap();
    assert_eq!(from_csv, from_jsonl);
    assert_eq!(from_csv.len(), 5);
    assert_eq!(from_csv[0].details.title.as_str(), "Runbook");
    assert_eq!(from_csv[0].details.item_type.as_str(), "page");
    assert_eq!(from_csv[0].permissions, 0);
    assert_eq!(from_csv[1].role, Role::Modifier);
    assert_eq!(
        (
            from_csv[2].role,
            from_csv[2].kind,
            from_csv[2].item.as_deref(),
            from_csv[2].permissions
        ),
        (Role::Permission, IdentityKind::Group, None, 3)
    );
    assert_eq!(
        (from_csv[3].role, from_csv[4].role),
        (Role::Reporter, Role::Watcher)
    );
    assert_eq!(
        read_items("x", JSONL.as_bytes(), ItemsFormat::Jsonl).unwrap(),
        from_csv
    );
}

#[test]
fn a_permission_counts_one_unless_told() {
    let text = "container,item,role,type,identity\nENG,,permission,group,g\n";
    assert_eq!(
        read_items_csv("items.csv", text.as_bytes()).unwrap()[0].permissions,
        1
    );
}

#[test]
fn every_bad_csv_row_names_file_line_and_field() {
    let header = "container,item,role,type,identity,permissions,title\n";
    let cases = [
        ("ENG,p,author?,account,u,,\n", "items.csv:2: field \"role\""),
        ("ENG,p,creator,robot,u,,\n", "items.csv:2: field \"type\""),
        ("ENG,,creator,account,u,,\n", "items.csv:2: field \"item\""),
        (
            "ENG,p,creator,account,,,\n",
            "items.csv:2: field \"identity\"",
        ),
        (
            ",p,creator,account,u,,\n",
            "items.csv:2: field \"container\"",
        ),
        (
            "ENG,,permission,group,g,many,\n",
            "items.csv:2: field \"permissions\"",
        ),
        (
            "ENG,,permission,group,g,-1,\n",
            "items.csv:2: field \"permissions\"",
        ),
        (
            "ENG,p,creator,account,u,2,\n",
            "items.csv:2: field \"permissions\"",
        ),
        (
            "ENG,p,creator,account,u\u{0},,\n",
            "items.csv:2: field \"identity\"",
        ),
        (
            "ENG,p,creator,account,u,,\"a\nb\"\n",
            "items.csv:2: field \"title\"",
        ),
    ];
    for (row, expected) in cases {
        let text = format!("{header}ENG,p,creator,account,ok,,\n{row}");
        let error = read_items_csv("items.csv", text.as_bytes())
            .unwrap_err()
            .to_string();
        let expected = expected.replace("items.csv:2", "items.csv:3");
        assert!(error.starts_with(&expected), "{row:?} gave {error}");
    }
    let error = read_items_csv(
        "items.csv",
        b"container,item,role,type,identity\nENG,p,creator,account,\xff\n".as_slice(),
    )
    .unwrap_err()
    .to_string();
    assert!(error.starts_with("items.csv:2"), "{error}");
}

#[test]
fn every_bad_json_line_names_file_line_and_pointer() {
    let good = "{\"container\":\"ENG\",\"item\":\"p\",\"references\":[{\"role\":\"creator\",\"type\":\"account\",\"identity\":\"u\"}]}\n";
    let cases = [
        (
            "{\"container\":\"ENG\",\"item\":\"p\",\"references\":[{\"role\":\"creator\",\"type\":\"person\",\"identity\":\"u\"}]}",
            "items.jsonl:2: /references/0/type",
        ),
        (
            "{\"container\":\"ENG\",\"item\":\"p\",\"references\":[{\"role\":\"x\",\"type\":\"account\",\"identity\":\"u\"}]}",
            "items.jsonl:2: /references/0/role",
        ),
        (
            "{\"container\":\"ENG\",\"item\":\"p\",\"references\":[{\"role\":\"creator\",\"type\":\"account\"}]}",
            "items.jsonl:2: /references/0/identity",
        ),
        (
            "{\"container\":\"ENG\",\"references\":[{\"role\":\"creator\",\"type\":\"account\",\"identity\":\"u\"}]}",
            "items.jsonl:2: /item",
        ),
        (
            "{\"item\":\"p\",\"references\":[{\"role\":\"creator\",\"type\":\"account\",\"identity\":\"u\"}]}",
            "items.jsonl:2: /container",
        ),
        (
            "{\"container\":\"ENG\",\"item\":\"p\",\"references\":[]}",
            "items.jsonl:2: /references",
        ),
        (
            "{\"container\":\"ENG\",\"item\":\"p\",\"refs\":[]}",
            "items.jsonl:2: /refs",
        ),
        (
            "{\"container\":\"ENG\",\"item\":\"p\",\"references\":[{\"role\":\"permission\",\"type\":\"group\",\"identity\":\"g\",\"permissions\":-2}]}",
            "items.jsonl:2: /references/0/permissions",
        ),
        (
            "{\"container\":\"ENG\",\"item\":[1],\"references\":[]}",
            "items.jsonl:2: /item",
        ),
        ("{\"container\":\"ENG\",", "items.jsonl:2"),
        ("[1, 2]", "items.jsonl:2"),
    ];
    for (line, expected) in cases {
        let text = format!("{good}{line}\n");
        let error = read_items_jsonl("items.jsonl", text.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(error.starts_with(expected), "{line:?} gave {error}");
    }
}

#[test]
fn safe_csv_neutralises_formulas() {
    let mut out = Vec::new();
    write_safe_csv(&["a", "b"], [["=SUM(1)", "plain"], ["@x", "-1"]], &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "a,b\n'=SUM(1),plain\n'@x,'-1\n"
    );
}
