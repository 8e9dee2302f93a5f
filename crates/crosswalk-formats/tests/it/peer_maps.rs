//! Peer tools' mapping files: written from report rows, read back as the same decisions.

use crosswalk_core::exceptions::IdentityRef;
use crosswalk_core::{IdentityKind, ReportRow, Resolution};
use crosswalk_formats::peer_maps::{PeerFormat, read_peer_map, write_peer_map};

fn row(
    kind: IdentityKind,
    source: (&str, &str, &str),
    destination: (&str, &str),
    resolution: Resolution,
) -> ReportRow {
    ReportRow {
        kind,
        job: "wave-1".into(),
        source_id: source.0.into(),
        source_username: source.1.into(),
        source_name: source.2.into(),
        source_display_name: String::new(),
        destination_id: destination.0.into(),
        destination_username: String::new(),
        destination_name: destination.1.into(),
        destination_display_name: "Zoë Müller".into(),
        resolution,
        message: String::new(),
    }
}

fn rows() -> Vec<ReportRow> {
    vec![
        row(
            IdentityKind::Account,
            ("JIRAUSER10201", "zmuller", "zoe.muller@old.acme.com"),
            ("5b10a", "zoe.muller@acme.com"),
            Resolution::Email,
        ),
        row(
            IdentityKind::Account,
            ("jdoe", "jdoe", "jdoe@old.acme.com"),
            ("", ""),
            Resolution::Unresolved,
        ),
        row(
            IdentityKind::Account,
            ("u3", "-admin", "=cmd@old.acme.com"),
            ("7c", "admin@acme.com"),
            Resolution::Exception,
        ),
        row(
            IdentityKind::Group,
            ("g1", "", "R&D"),
            ("g9", "rnd"),
            Resolution::Name,
        ),
    ]
}

fn write(format: PeerFormat) -> (String, crosswalk_formats::peer_maps::Exported) {
    let mut out = Vec::new();
    let exported = write_peer_map(format, rows(), &mut out).unwrap();
    (String::from_utf8(out).unwrap(), exported)
}

#[test]
fn spmt_has_no_header_and_a_group_flag_and_leaves_unresolved_out() {
    let (text, exported) = write(PeerFormat::Spmt);
    assert_eq!(
        text,
        "zmuller,zoe.muller@acme.com,FALSE\n'-admin,admin@acme.com,FALSE\nR&D,rnd,TRUE\n"
    );
    assert_eq!(exported.mapped, 3);
    assert_eq!(exported.unmapped.len(), 1);
    assert!(!exported.unmapped[0].marked && exported.unmapped[0].source == "jdoe");
}

#[test]
fn mover_marks_unresolved_with_a_blank_destination_and_jcma_keeps_every_user() {
    let (text, exported) = write(PeerFormat::Mover);
    assert!(text.starts_with("Source User,Destination User\n"));
    assert!(text.contains("jdoe@old.acme.com,\n"));
    assert!(exported.unmapped[0].marked);
    let (text, exported) = write(PeerFormat::Jcma);
    assert!(
        text.starts_with("UserKey,UserName,ErrorType,OldEmail,NewEmail,Tombstone,AccountType\n")
    );
    assert!(text.contains("jdoe,jdoe,UNMAPPED,jdoe@old.acme.com,,false,account\n"));
    assert_eq!(exported.other_kind, 1, "the group is not a JCMA row");
    let (text, _) = write(PeerFormat::DryvIq);
    assert!(text.starts_with("\"source_id\",\"source_username\""));
    assert!(
        text.contains("\"JIRAUSER10201\",\"zmuller\",\"zoe.muller@old.acme.com\",\"\",\"5b10a\"")
    );
}

#[test]
fn every_format_reads_back_as_the_decisions_it_was_written_from() {
    for format in PeerFormat::ALL {
        let (text, exported) = write(format);
        let rules = read_peer_map(format, "map.csv", text.as_bytes())
            .unwrap_or_else(|e| panic!("{format:?}: {e:?}"));
        assert_eq!(rules.rules.len() as u64, exported.mapped, "{format:?}");
        for rule in &rules.rules {
            let original = rows()
                .into_iter()
                .find(|r| {
                    [&r.source_id, &r.source_username, &r.source_name]
                        .iter()
                        .any(|v| v.as_str() == rule.source.value())
                })
                .unwrap_or_else(|| panic!("{format:?}: no row for {:?}", rule.source));
            let destination = rule.destination.value();
            assert!(
                [&original.destination_id, &original.destination_name]
                    .iter()
                    .any(|v| v.as_str() == destination),
                "{format:?}: {destination:?}"
            );
            assert_ne!(original.resolution, Resolution::Unresolved);
        }
    }
}

#[test]
fn wildcard_rows_become_transforms_and_bad_rows_are_all_reported() {
    let mover = "Source User,Destination User\ncorp.a.com,a.com\nann@corp.a.com,ann@b.com\nbob@corp.a.com,\n";
    let rules = read_peer_map(PeerFormat::Mover, "mover.csv", mover.as_bytes()).unwrap();
    assert_eq!(rules.transforms.len(), 1, "{rules:?}");
    assert_eq!(
        (
            rules.transforms[0].from.as_str(),
            rules.transforms[0].to.as_str()
        ),
        ("corp.a.com", "a.com")
    );
    assert!(rules.transforms[0].to_toml().contains("kind = \"domain\""));
    assert_eq!(rules.rules.len(), 1, "{rules:?}");
    assert_eq!(
        rules.rules[0].destination,
        IdentityRef::Any("ann@b.com".into())
    );
    assert_eq!(rules.ignored, 1);
    let movebot = "*@old.com,*@new.com\nuser:ann@old.com,user:ann@new.com\n*,*@new.com\n";
    let problems = read_peer_map(PeerFormat::Movebot, "mb.csv", movebot.as_bytes()).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]
            .to_string()
            .starts_with("mb.csv:3: field \"source\""),
        "{}",
        problems[0]
    );
    let spmt = "a,b,FALSE\nc,d,maybe\na,e,FALSE\nf\n";
    let problems: Vec<String> = read_peer_map(PeerFormat::Spmt, "u.csv", spmt.as_bytes())
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].contains("u.csv:2") && problems[0].contains("TRUE"));
    assert!(problems[1].contains("u.csv:3") && problems[1].contains("already mapped on line 1"));
    assert!(problems[2].contains("u.csv:4") && problems[2].contains("expected 3 fields"));
    let sharegate = "Source,Target\nx,y\n";
    assert!(
        read_peer_map(PeerFormat::ShareGate, "s.csv", sharegate.as_bytes()).unwrap_err()[0]
            .to_string()
            .contains("SourceValue")
    );
}
