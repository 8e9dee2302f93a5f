//! The FEBRL4 set against the real engine. The acceptance bar is zero false merges; the
//! figures are printed (`cargo test -p crosswalk-eval --test febrl4 -- --nocapture`).

use std::collections::HashSet;
use std::path::PathBuf;

use crosswalk_core::{Policy, Resolution, resolve};
use crosswalk_eval::{FEBRL4_ORG_DOMAIN, LabelledPair, email_only_baseline, evaluate, load_febrl4};

fn febrl4() -> LabelledPair {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/febrl4");
    load_febrl4(&dir).expect("testdata/febrl4 holds dataset4a.csv and dataset4b.csv")
}

fn org_policy() -> Policy {
    let mut policy = Policy::default();
    policy.name.organisation_domains = vec![FEBRL4_ORG_DOMAIN.into()];
    policy
}

#[test]
fn febrl4_loads_5000_people_on_each_side_with_5000_links() {
    let pair = febrl4();
    assert_eq!(pair.source.accounts.len(), 5000);
    assert_eq!(pair.destination.accounts.len(), 5000);
    assert_eq!(pair.truth.len(), 5000);
    assert!(pair.truth.iter().all(|t| t.destination_id.is_some()));
    let linked: HashSet<&str> = pair
        .truth
        .iter()
        .filter_map(|t| t.destination_id.as_deref())
        .collect();
    assert_eq!(linked.len(), 5000, "one duplicate per original");
    assert!(pair.truth.iter().all(|t| {
        let n = t
            .source_id
            .trim_start_matches("rec-")
            .trim_end_matches("-org");
        t.destination_id.as_deref() == Some(format!("rec-{n}-dup-0").as_str())
    }));
    assert!(pair.source.accounts.iter().all(|a| a.email.is_none()));
    let emails: HashSet<&str> = pair
        .destination
        .accounts
        .iter()
        .filter_map(|a| a.email.as_deref())
        .collect();
    assert_eq!(emails.len(), 5000);
    assert!(emails.iter().all(|e| e.ends_with("@org.example")));
    // FEBRL's duplicates carry typos: a good part of the links share no name key.
    let unlinkable = pair.truth.iter().filter(|t| !t.linkable).count();
    assert!(unlinkable > 0 && unlinkable < 5000, "{unlinkable}");
}

#[test]
fn engine_makes_no_false_merge_on_febrl4() {
    let pair = febrl4();
    for provision in [false, true] {
        let mut policy = org_policy();
        policy.fallback.provision = provision;
        let resolved = resolve(&pair.source, &pair.destination, &policy, &[]);
        let report = evaluate(&pair.source, &pair.destination, &pair.truth, &resolved)
            .unwrap()
            .with_label(format!(
                "engine, organisation_domains = [\"org.example\"], provision = {provision}"
            ));
        println!("{report}");
        assert_eq!(report.total.rows, 5000);
        // FEBRL4 has names only, and a name alone never links (it would merge namesakes):
        // every person the names can find is linked or shown with the right candidate.
        // The linkable rows are exactly the `name_same` ones; people whose name keys differ
        // may be offered too (nicknames, transliterations), which the total then includes.
        let same = &report.by_category[crosswalk_eval::febrl::CATEGORY_SAME_NAME];
        assert_eq!(same.rows, report.total.linkable);
        assert_eq!(
            same.correct + same.missed_with_answer,
            same.rows,
            "every linkable person is linked or offered for review:\n{report}"
        );
        assert!(
            report.total.correct + report.total.missed_with_answer >= report.total.linkable,
            "{report}"
        );
        assert_eq!(
            report.total.false_merge, 0,
            "false merges on FEBRL4:\n{report}"
        );
        if !provision {
            assert_eq!(report.total.duplicate, 0);
        }
    }
}

#[test]
fn email_only_baseline_duplicates_everyone_on_febrl4() {
    let pair = febrl4();
    let resolved = email_only_baseline(&pair.source, &pair.destination);
    let report = evaluate(&pair.source, &pair.destination, &pair.truth, &resolved)
        .unwrap()
        .with_label("email-only baseline");
    println!("{report}");
    // No source address: the naive rule creates a second account for every person.
    assert_eq!(resolved.summary.count(Resolution::Provision), 5000);
    assert_eq!(report.total.duplicate, 5000);
    assert_eq!(report.total.false_merge, 0);
    assert_eq!(report.total.duplicate_pct, Some(100.0));
}
