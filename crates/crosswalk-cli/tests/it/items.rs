//! `crosswalk items import`, `crosswalk items --mapping`, `crosswalk reattribution`: on
//! SQLite and on PostgreSQL, good files and every class of bad one.

use crate::util::*;

const ITEMS_CSV: &str =
    "container,container_type,item,item_type,title,role,type,identity,permissions
ENG,space,page-1,page,=HYPERLINK(\"http://x\"),creator,account,JIRAUSER1,
ENG,space,page-1,page,=HYPERLINK(\"http://x\"),mentioned,account,jdoe,
ENG,space,page-2,page,Notes,commenter,account,John.Doe@acme.com,
ENG,space,,,,permission,account,JIRAUSER1,4
OPS,project,OPS-1,issue,Broken,assignee,account,JIRAUSER2,
OPS,project,,,,permission,group,G1,2
";

/// The destination with one more account, which an exception gives John in a second run.
fn destination_with_new_john() -> String {
    format!(
        "{DESTINATION_CSV}account,5b10a009,,john.doe.new@acme.com,,John Doe,John,Doe,true,,true,,,\n"
    )
}

/// The arguments, then those naming the store.
fn with<'a>(store: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
    [args, store].concat()
}

/// The whole path on one store: `store` is the extra arguments naming it.
fn import_list_and_reattribute(dir: &Dir, store: &[&str]) {
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", &destination_with_new_john());
    dir.write("policy.toml", POLICY_TOML);
    dir.write("items.csv", ITEMS_CSV);
    dir.write(
        "exceptions.csv",
        "type,source,destination\naccount,id:JIRAUSER1,id:5b10a009\n",
    );
    let run = [
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "-p",
        "policy.toml",
        "--job",
        "wave-1",
    ];
    dir.ok(&with(store, &run));

    // Before an import the list says what to do, not nothing.
    let out = dir
        .command()
        .args(with(store, &["items", "--mapping", "JIRAUSER1"]))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("crosswalk items import"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(&dir.ok(&with(
        store,
        &["items", "--mapping", "JIRAUSER1", "--format", "json"],
    )))
    .unwrap();
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("No item references have been imported"),
        "{json}"
    );

    let imported = dir.ok(&with(store, &["items", "import", "items.csv"]));
    assert!(
        imported.contains("imported 6 item references (5 items)"),
        "{imported}"
    );

    let rows = csv_rows(&dir.ok(&with(store, &["items", "--mapping", "jdoe"])));
    assert_eq!(
        rows[0],
        [
            "container",
            "container_type",
            "item",
            "item_type",
            "title",
            "role",
            "identity",
            "permissions"
        ]
    );
    assert_eq!(
        rows.len(),
        5,
        "four references name John, by id, username and address: {rows:?}"
    );
    assert!(
        rows.iter().any(|r| r[4] == "'=HYPERLINK(\"http://x\")"),
        "a formula title is neutralised: {rows:?}"
    );
    let creators = csv_rows(&dir.ok(&with(
        store,
        &["items", "--mapping", "JIRAUSER1", "--role", "creator"],
    )));
    assert_eq!(creators.len(), 2);
    let pages = csv_rows(&dir.ok(&with(
        store,
        &[
            "items",
            "--mapping",
            "JIRAUSER1",
            "--type",
            "page",
            "--container",
            "ENG",
        ],
    )));
    assert_eq!(pages.len(), 4);
    let group = csv_rows(&dir.ok(&with(
        store,
        &["items", "--mapping", "G1", "--namespace", "identity:group"],
    )));
    assert_eq!((group.len(), group[1][7].as_str()), (2, "2"));

    // Paging: --limit and --after walk the list without repeats.
    let first: serde_json::Value = serde_json::from_str(&dir.ok(&with(
        store,
        &[
            "items",
            "--mapping",
            "JIRAUSER1",
            "--limit",
            "3",
            "--format",
            "json",
        ],
    )))
    .unwrap();
    assert_eq!(
        (
            first["items"].as_array().unwrap().len(),
            first["last_page"].clone()
        ),
        (3, serde_json::json!(false))
    );
    assert_eq!(first["counts"]["permissions"], serde_json::json!(4));
    let next = first["next"].as_str().unwrap();
    let second: serde_json::Value = serde_json::from_str(&dir.ok(&with(
        store,
        &[
            "items",
            "--mapping",
            "JIRAUSER1",
            "--limit",
            "3",
            "--after",
            next,
            "--format",
            "json",
        ],
    )))
    .unwrap();
    assert_eq!(
        (
            second["items"].as_array().unwrap().len(),
            second["last_page"].clone()
        ),
        (1, serde_json::json!(true))
    );

    let error = dir.fails(&with(
        store,
        &["items", "--mapping", "JIRAUSER1", "--role", "boss"],
    ));
    assert!(error.contains("--role \"boss\" is not a role"), "{error}");
    let error = dir.fails(&with(store, &["items", "--mapping", "nobody-at-all"]));
    assert!(error.contains("no identity:user mapping"), "{error}");

    // Nothing changed yet.
    let none = dir.crosswalk(&with(store, &["reattribution"]));
    assert_eq!(
        csv_rows(&String::from_utf8_lossy(&none.stdout)).len(),
        1,
        "a header only"
    );
    let stderr = String::from_utf8_lossy(&none.stderr).to_string();
    let cursor = stderr
        .split("--since ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    // The second run: an exception gives John the new account.
    dir.ok(&with(
        store,
        &[&run[..], &["-e", "exceptions.csv"]].concat(),
    ));
    let rows = csv_rows(&dir.ok(&with(store, &["reattribution", "--since", &cursor])));
    assert_eq!(
        rows[0],
        [
            "revision",
            "namespace",
            "source_key",
            "container",
            "container_type",
            "item",
            "item_type",
            "title",
            "role",
            "permissions",
            "old_destination_id",
            "old_destination_name",
            "new_destination_id",
            "new_destination_name",
            "reason"
        ]
    );
    let john: Vec<&Vec<String>> = rows[1..].iter().filter(|r| r[2] == "JIRAUSER1").collect();
    assert_eq!(john.len(), 4, "{rows:?}");
    for row in &john {
        assert_eq!(
            (row[10].as_str(), row[12].as_str(), row[14].as_str()),
            ("5b10a001", "5b10a009", "exception"),
            "{row:?}"
        );
    }
    assert!(
        john.iter().any(|r| r[7] == "'=HYPERLINK(\"http://x\")"),
        "neutralised here too: {john:?}"
    );
    let json: serde_json::Value = serde_json::from_str(&dir.ok(&with(
        store,
        &["reattribution", "--since", &cursor, "--format", "json"],
    )))
    .unwrap();
    assert_eq!(
        json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["source_key"] == "JIRAUSER1")
            .count(),
        4
    );
    let later = json["cursor"].as_str().unwrap();
    assert_eq!(
        csv_rows(&dir.ok(&with(store, &["reattribution", "--since", later]))).len(),
        1
    );

    // The change feed carries the count.
    let feed = dir.ok(&with(
        store,
        &["changes", "--since", &cursor, "--format", "jsonl"],
    ));
    let john_change: serde_json::Value = feed
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["source_key"] == "JIRAUSER1")
        .unwrap();
    assert_eq!(
        john_change["affected_items"],
        serde_json::json!(4),
        "{john_change}"
    );
}

#[test]
fn items_import_list_and_reattribution_after_a_second_run_on_sqlite() {
    import_list_and_reattribute(&Dir::new(), &[]);
}

#[test]
fn items_import_list_and_reattribution_after_a_second_run_on_postgres() {
    let Some(database) = crate::postgres::fresh_database() else {
        return;
    };
    let dir = Dir::new();
    import_list_and_reattribute(&dir, &["--database", &database.url]);
    assert!(!dir.store().exists());
}

/// More references than one page holds (10,000): the list is written page by page, and
/// every reference is there once, in CSV and in JSON.
#[test]
fn a_list_longer_than_a_page_is_written_whole() {
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
        "wave-1",
    ]);
    let mut items = String::from(
        "container,container_type,item,item_type,title,role,type,identity,permissions\n",
    );
    for n in 0..10_050 {
        items.push_str(&format!(
            "ENG,space,page-{n:05},page,Page {n},creator,account,JIRAUSER1,\n"
        ));
    }
    dir.write("items.csv", &items);
    dir.ok(&["items", "import", "items.csv"]);

    let rows = csv_rows(&dir.ok(&["items", "--mapping", "JIRAUSER1"]));
    assert_eq!(rows.len(), 1 + 10_050);
    let pages: std::collections::BTreeSet<&str> =
        rows[1..].iter().map(|row| row[2].as_str()).collect();
    assert_eq!(
        pages.len(),
        10_050,
        "no item is repeated or lost between pages"
    );

    let json: serde_json::Value =
        serde_json::from_str(&dir.ok(&["items", "--mapping", "JIRAUSER1", "--format", "json"]))
            .unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 10_050);
    assert_eq!(
        (
            json["last_page"].clone(),
            json["counts"]["references"].clone()
        ),
        (serde_json::json!(true), serde_json::json!(10_050))
    );
}

#[test]
fn a_bad_items_file_is_refused_whole_naming_line_and_field() {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE_CSV);
    dir.write("destination.csv", DESTINATION_CSV);
    dir.ok(&[
        "run",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "--job",
        "wave-1",
    ]);
    dir.write("items.csv", ITEMS_CSV);
    dir.ok(&["items", "import", "items.csv"]);

    let good = "container,item,role,type,identity,permissions\nENG,p,creator,account,JIRAUSER1,\n";
    let cases = [
        ("role.csv", format!("{good}ENG,p,boss,account,JIRAUSER1,\n"), "role.csv:3: field \"role\""),
        ("type.csv", format!("{good}ENG,p,creator,robot,JIRAUSER1,\n"), "type.csv:3: field \"type\""),
        ("item.csv", format!("{good}ENG,,creator,account,JIRAUSER1,\n"), "item.csv:3: field \"item\""),
        ("identity.csv", format!("{good}ENG,p,creator,account,,\n"), "identity.csv:3: field \"identity\""),
        ("container.csv", format!("{good},p,creator,account,JIRAUSER1,\n"), "container.csv:3: field \"container\""),
        ("count.csv", format!("{good}ENG,,permission,group,G1,lots\n"), "count.csv:3: field \"permissions\""),
        ("header.csv", "container,item,role,identity\nENG,p,creator,JIRAUSER1\n".to_string(), "header.csv:1: field \"type\""),
        ("empty.csv", String::new(), "empty.csv:1"),
        (
            "bad.jsonl",
            "{\"container\":\"ENG\",\"item\":\"p\",\"references\":[{\"role\":\"creator\",\"type\":\"account\",\"identity\":\"JIRAUSER1\"}]}\n{\"container\":\"ENG\",\"item\":\"p\",\"references\":[{\"role\":\"creator\",\"type\":\"person\",\"identity\":\"x\"}]}\n".to_string(),
            "bad.jsonl:2: /references/0/type",
        ),
        ("broken.jsonl", "{\"container\":\n".to_string(), "broken.jsonl:1"),
    ];
    for (name, content, expected) in cases {
        dir.write(name, &content);
        let error = dir.fails(&["items", "import", name]);
        assert!(error.contains(expected), "{name}: {error}");
    }
    let error = dir.fails(&["items", "import", "missing.csv"]);
    assert!(error.contains("missing.csv"), "{error}");
    let error = dir.fails(&["items", "import", "--scope", "nope", "items.csv"]);
    assert!(error.contains("no scope named \"nope\""), "{error}");
    // Nothing of the refused files was stored: John still has his four references.
    let rows = csv_rows(&dir.ok(&["items", "--mapping", "JIRAUSER1"]));
    assert_eq!(rows.len(), 5, "{rows:?}");

    // JSON Lines imports as well as CSV.
    dir.write("items.jsonl", "{\"container\":\"OPS\",\"item\":\"OPS-2\",\"item_type\":\"issue\",\"references\":[{\"role\":\"reporter\",\"type\":\"account\",\"identity\":\"msmith\"},{\"role\":\"watcher\",\"type\":\"account\",\"identity\":\"JIRAUSER1\"}]}\n");
    assert!(
        dir.ok(&["items", "import", "items.jsonl"])
            .contains("imported 2 item references (1 items)")
    );
    let rows = csv_rows(&dir.ok(&["items", "--mapping", "JIRAUSER1"]));
    assert_eq!((rows.len(), rows[1][5].as_str()), (2, "watcher"));
}

#[test]
fn a_scope_where_no_job_has_run_says_so() {
    let dir = Dir::new();
    dir.ok(&[
        "scope",
        "create",
        "acme",
        "--source-label",
        "jira-server https://j",
        "--destination-label",
        "cloud",
    ]);
    let out = dir
        .command()
        .args(["items", "--scope", "acme", "--mapping", "jdoe"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("No job of scope \"acme\" has run yet"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = dir
        .command()
        .args(["reattribution", "--scope", "acme", "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("crosswalk run --scope acme"),
        "{json}"
    );
}

#[test]
fn the_demo_plants_items_to_reattribute() {
    let dir = Dir::new();
    let out = dir.ok(&["demo"]);
    assert!(
        out.contains("item references from samples/items.csv"),
        "{out}"
    );
    let rows = csv_rows(&dir.ok(&["reattribution"]));
    let anna: Vec<&Vec<String>> = rows[1..]
        .iter()
        .filter(|r| r[2] == "JIRAUSER10017")
        .collect();
    assert!(
        anna.len() >= 7,
        "Anna's items follow her exception: {rows:?}"
    );
    assert!(
        anna.iter().all(|r| r[10].is_empty() && !r[12].is_empty()),
        "{anna:?}"
    );
    let items = csv_rows(&dir.ok(&["items", "--mapping", "JIRAUSER10017"]));
    assert!(items.len() > 7, "{items:?}");
}
