//! The name tier's evidence score: confidence on every mapping, ranked review candidates,
//! nicknames and transliterations as weak evidence only.

use crosswalk_core::{
    Confidence, Flag, LINK_THRESHOLD, Policy, REVIEW_FLOOR, Resolution, Target, resolve,
};

use crate::fixtures::{account_mapping, dir, linked_to, org_policy, person, with_alias};

#[test]
fn every_mapping_carries_a_confidence() {
    let source = dir(
        vec![
            person("s1", "ann@acme.com", "Ann Lee"),
            person("s2", "kitty.p@home.example", "Olga Petrova"),
            person("s3", "nobody@home.example", "No Body"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            person("d1", "ann@acme.com", "Ann Lee"),
            with_alias(
                person("d2", "olga.petrova@acme.com", "Olga Petrova"),
                "kitty.p@acme.com",
            ),
        ],
        vec![],
    );
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    let email = account_mapping(&resolved, &source, "s1");
    assert_eq!(email.resolution, Resolution::Email);
    assert!(email.confidence.as_f64() >= 0.95, "{}", email.confidence);
    let name = account_mapping(&resolved, &source, "s2");
    assert_eq!(name.resolution, Resolution::Name, "{}", name.message);
    assert!(
        name.confidence.as_f64() >= LINK_THRESHOLD,
        "{}",
        name.confidence
    );
    assert!(
        name.evidence[0].note.contains("same name +4.0"),
        "the score's parts are explained: {}",
        name.evidence[0].note
    );
    assert!(
        name.evidence[0]
            .note
            .contains("same address local part in another domain kitty.p +2.5"),
        "{}",
        name.evidence[0].note
    );
    let nobody = account_mapping(&resolved, &source, "s3");
    assert_eq!(nobody.resolution, Resolution::Unresolved);
    assert_eq!(
        nobody.confidence,
        Confidence::CERTAIN,
        "no candidate at all: sure that nobody matches"
    );
}

#[test]
fn a_nickname_is_offered_for_review_never_linked() {
    // Bob Smith left with a personal address; his destination account says Robert.
    let source = dir(vec![person("s1", "bob@home.example", "Bob Smith")], vec![]);
    let destination = dir(
        vec![person("d1", "robert.smith@acme.com", "Robert Smith")],
        vec![],
    );
    let mut policy = org_policy();
    policy.fallback.provision = true;
    let resolved = resolve(&source, &destination, &policy, &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(
        m.resolution,
        Resolution::Unresolved,
        "left for review instead of a duplicate: {}",
        m.message
    );
    assert_eq!(m.candidates.len(), 1);
    assert!(
        m.candidates[0].reason.contains("nickname"),
        "{}",
        m.candidates[0].reason
    );
    assert!(m.candidates[0].score.as_f64() < LINK_THRESHOLD);
    assert!(m.message.contains("similar"), "{}", m.message);
}

#[test]
fn a_transliterated_name_is_weak_evidence_in_both_directions() {
    let source = dir(
        vec![
            person("s1", "ozlem@home.example", "Özlem Yılmaz"),
            person("s2", "jose@home.example", "Jose Garcia"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            person("d1", "ozlem.yilmaz@acme.com", "Ozlem Yilmaz"),
            person("d2", "jose.garcia@acme.com", "José García"),
        ],
        vec![],
    );
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    for (id, want) in [("s1", "d1"), ("s2", "d2")] {
        let m = account_mapping(&resolved, &source, id);
        assert_eq!(
            m.resolution,
            Resolution::Unresolved,
            "{id}: transliteration never proves a name: {}",
            m.message
        );
        assert_eq!(m.candidates.len(), 1, "{id}");
        assert_eq!(destination.account(m.candidates[0].index).id, want);
        assert!(
            m.candidates[0].reason.contains("transliterated"),
            "{}",
            m.candidates[0].reason
        );
    }
}

#[test]
fn candidates_are_ranked_best_first_with_their_evidence() {
    // Two Li Weis: the one whose handle spells the name ranks first.
    let source = dir(vec![person("s1", "li@home.example", "Li Wei")], vec![]);
    let destination = dir(
        vec![
            person("d1", "user42@acme.com", "Li Wei"),
            person("d2", "li.wei@acme.com", "Li Wei"),
        ],
        vec![],
    );
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Unresolved);
    assert!(m.flags.contains(&Flag::Ambiguous));
    let ranked: Vec<&str> = m
        .candidates
        .iter()
        .map(|c| destination.account(c.index).id.as_str())
        .collect();
    assert_eq!(ranked, ["d2", "d1"]);
    assert!(m.candidates[0].score > m.candidates[1].score);
    assert!(
        m.candidates[0]
            .reason
            .contains("shared by 2 destination accounts"),
        "{}",
        m.candidates[0].reason
    );
    assert!(
        m.confidence.as_f64() < 0.5,
        "sure of nothing: {}",
        m.confidence
    );
}

#[test]
fn a_handle_that_only_spells_the_name_is_not_enough() {
    // Andrew Taylor has no address of his own; the one Andrew Taylor on the destination has
    // andrew.taylor@acme.com. A namesake's account would look exactly the same.
    let source = dir(
        vec![
            person("s1", "", "Andrew Taylor"),
            person("s2", "barbara.adams@home.example", "Barbara Adams"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            person("d1", "andrew.taylor@acme.com", "Andrew Taylor"),
            person("d2", "barbara.adams@acme.com", "Barbara Adams"),
        ],
        vec![],
    );
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    for (id, want) in [("s1", "d1"), ("s2", "d2")] {
        let m = account_mapping(&resolved, &source, id);
        assert_eq!(m.resolution, Resolution::Unresolved, "{id}: {}", m.message);
        assert_eq!(m.candidates.len(), 1, "{id}: offered for review");
        assert_eq!(destination.account(m.candidates[0].index).id, want);
        assert!(m.candidates[0].score.as_f64() < LINK_THRESHOLD);
    }
    let shared = account_mapping(&resolved, &source, "s2");
    assert!(
        shared.candidates[0]
            .reason
            .contains("which only spells the name"),
        "{}",
        shared.candidates[0].reason
    );
}

#[test]
fn a_weak_runner_up_does_not_stop_a_name_link() {
    let source = dir(
        vec![person("s1", "rs.dev@home.example", "Robert Smith")],
        vec![],
    );
    let destination = dir(
        vec![
            with_alias(
                person("d1", "robert.smith@acme.com", "Robert Smith"),
                "rs.dev@acme.com",
            ),
            person("d2", "bob.smith@acme.com", "Bob Smith"),
        ],
        vec![],
    );
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Name, "{}", m.message);
    assert_eq!(linked_to(m, &destination).as_deref(), Some("d1"));
    assert!(m.confidence.as_f64() >= LINK_THRESHOLD);
}

#[test]
fn a_runner_up_that_also_fits_stops_a_name_link() {
    // The exact name shares one of this person's old handles, the nickname account another:
    // both fit, so the engine does not choose.
    let source = dir(
        vec![with_alias(
            person("s1", "rs.dev@home.example", "Robert Smith"),
            "rob.smith@home.example",
        )],
        vec![],
    );
    let destination = dir(
        vec![
            with_alias(
                person("d1", "robert.smith@acme.com", "Robert Smith"),
                "rs.dev@acme.com",
            ),
            person("d2", "rob.smith@acme.com", "Bob Smith"),
        ],
        vec![],
    );
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Unresolved, "{}", m.message);
    assert!(m.flags.contains(&Flag::Ambiguous));
    assert!(m.message.contains("also fits"), "{}", m.message);
    let ranked: Vec<&str> = m
        .candidates
        .iter()
        .map(|c| destination.account(c.index).id.as_str())
        .collect();
    assert_eq!(ranked, ["d1", "d2"]);
}

#[test]
fn unrelated_names_are_not_offered_and_the_fallback_applies() {
    let source = dir(vec![person("s1", "x@home.example", "Wendy Zhang")], vec![]);
    let destination = dir(vec![person("d1", "w.z@acme.com", "Walter Zhang")], vec![]);
    let mut policy: Policy = org_policy();
    policy.fallback.provision = true;
    let resolved = resolve(&source, &destination, &policy, &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Provision, "{}", m.message);
    assert_eq!(m.target, Some(Target::Provision));
    assert!(
        m.candidates
            .iter()
            .all(|c| c.score.as_f64() >= REVIEW_FLOOR)
    );
}

#[test]
fn the_explanation_reads_as_a_sentence_a_reviewer_can_check() {
    let source = dir(
        vec![
            person("s1", "kitty.p@home.example", "Olga Petrova"),
            person("s2", "", "Alexander Ryan"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            with_alias(
                person("d1", "olga.petrova@acme.com", "Petrova, Olga"),
                "kitty.p@acme.com",
            ),
            person("d2", "user7f3a@acme.com", "Alexander Ryan"),
        ],
        vec![],
    );
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    let linked = account_mapping(&resolved, &source, "s1").explanation();
    assert!(
        linked.starts_with("Linked by Name with confidence 0.98"),
        "{linked}"
    );
    assert!(linked.contains("olga petrova"), "{linked}");
    assert!(linked.contains("kitty.p"), "{linked}");
    let review = account_mapping(&resolved, &source, "s2").explanation();
    assert!(review.starts_with("Unresolved with confidence"), "{review}");
    assert!(
        review.contains("one candidate for review, scored 0."),
        "{review}"
    );
    assert!(review.contains("no address or username agrees"), "{review}");
}

#[test]
fn a_typo_in_a_name_stops_a_second_account_for_review() {
    // FEBRL-style corruption: the same person, one letter swapped, nothing else to link.
    let source = dir(
        vec![
            person("s1", "", "Jonh Smith"),
            person("s2", "wendi.zhang@acme.com", "Wendi Zhang"),
            person("s3", "", "Wendy Zhang"),
        ],
        vec![],
    );
    let destination = dir(
        vec![
            person("d1", "john.smith@acme.com", "John Smith"),
            person("d2", "wendi.zhang@acme.com", "Wendi Zhang"),
        ],
        vec![],
    );
    let mut policy = org_policy();
    policy.fallback.provision = true;
    let resolved = resolve(&source, &destination, &policy, &[]);
    let typo = account_mapping(&resolved, &source, "s1");
    assert_eq!(
        typo.resolution,
        Resolution::Unresolved,
        "not created: {}",
        typo.message
    );
    assert!(typo.message.starts_with("not created"), "{}", typo.message);
    assert_eq!(typo.candidates.len(), 1);
    assert_eq!(destination.account(typo.candidates[0].index).id, "d1");
    assert!(
        typo.candidates[0].reason.contains("similar name"),
        "{}",
        typo.candidates[0].reason
    );
    // d2 is already Wendi's by email: a near miss is only looked for among unclaimed accounts.
    let wendy = account_mapping(&resolved, &source, "s3");
    assert_eq!(wendy.resolution, Resolution::Provision, "{}", wendy.message);
    assert!(wendy.candidates.is_empty());
}

#[test]
fn a_common_name_records_every_namesake_and_explains_only_the_plausible_ones() {
    // Twelve Maria Garcias on the destination, and the source's Maria Garcia has her own
    // organisation address that none of them carries: every one scores below the review
    // floor. The ambiguity still names all twelve, ranked, so a reviewer can pick; their
    // reason says why none is offered instead of repeating the same score twelve times.
    let source = dir(
        vec![person("s1", "mgarcia7@acme.com", "Maria Garcia")],
        vec![],
    );
    let destination = dir(
        (0..12)
            .map(|i| {
                person(
                    &format!("d{i:02}"),
                    &format!("maria.garcia{i}@acme.com"),
                    "Maria Garcia",
                )
            })
            .collect(),
        vec![],
    );
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Unresolved, "{}", m.message);
    assert_eq!(
        m.candidates.len(),
        12,
        "every namesake is recorded: {}",
        m.message
    );
    assert!(m.candidates.iter().all(|c| c.score.as_f64() < REVIEW_FLOOR));
    assert!(
        m.candidates
            .iter()
            .all(|c| c.reason == "same name; scored below the review floor"),
        "{:?}",
        m.candidates
            .iter()
            .map(|c| c.reason.as_ref())
            .collect::<Vec<_>>()
    );
    let ids: Vec<&str> = m
        .candidates
        .iter()
        .map(|c| destination.account(c.index).id.as_str())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "equal scores are listed by destination id");
}

#[test]
fn a_name_shared_on_either_side_says_which_side_shares_it() {
    // Two Li Weis in the source, one on the destination: the message must not call the
    // destination's account one of the "other source accounts".
    let source = dir(
        vec![
            person("s1", "li1@home.example", "Li Wei"),
            person("s2", "li2@home.example", "Li Wei"),
        ],
        vec![],
    );
    let destination = dir(vec![person("d1", "user42@acme.com", "Li Wei")], vec![]);
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert_eq!(m.resolution, Resolution::Unresolved, "{}", m.message);
    assert!(
        m.message.contains(
            "other source accounts also have the name \"Li Wei\", so the destination accounts with it (d1 <user42@acme.com>) are not linked by name"
        ),
        "{}",
        m.message
    );

    // One Li Wei in the source, two on the destination.
    let source = dir(vec![person("s1", "li1@home.example", "Li Wei")], vec![]);
    let destination = dir(
        vec![
            person("d1", "user42@acme.com", "Li Wei"),
            person("d2", "user7@acme.com", "Li Wei"),
        ],
        vec![],
    );
    let resolved = resolve(&source, &destination, &org_policy(), &[]);
    let m = account_mapping(&resolved, &source, "s1");
    assert!(
        m.message.contains("the name \"Li Wei\" is shared by several destination accounts (d1 <user42@acme.com>, d2 <user7@acme.com>)"),
        "{}",
        m.message
    );
}
