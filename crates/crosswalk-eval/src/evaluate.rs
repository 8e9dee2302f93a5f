//! Scoring a resolver's mappings against truth.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crosswalk_core::{Directory, IdentityKind, Mapping, Resolution, Resolved, Target};
use serde::Serialize;

use crate::error::EvalError;
use crate::truth::Truth;

/// What happened to one labelled source identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Linked to the right existing identity; or, for one with no identity on the
    /// destination, not linked to any (created, passed through, kept external, sent to the
    /// default account or left for review).
    Correct,
    /// Linked to an existing destination identity that is someone else: the worst outcome.
    FalseMerge,
    /// It had an identity on the destination, and a new one would be created (Provision,
    /// Passthrough).
    Duplicate,
    /// It had an identity on the destination and was not linked to it: left Unresolved for
    /// review, or sent to the Default account or kept External.
    Missed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Correct => "correct",
            Outcome::FalseMerge => "false_merge",
            Outcome::Duplicate => "duplicate",
            Outcome::Missed => "missed",
        }
    }
}

/// Classifies one mapping, given the index of the right destination identity (of the
/// mapping's kind), or `None` when the identity has none on the destination.
///
/// A `Default` resolution is a catch-all, not a claim that the two are one person: it is
/// never a link, even when its target is an existing account.
pub fn classify(expected: Option<u32>, mapping: &Mapping) -> Outcome {
    let linked = match (&mapping.target, mapping.resolution) {
        (_, Resolution::Default) => None,
        (Some(Target::Existing { index }), _) => Some(*index),
        _ => None,
    };
    let creates = matches!(
        mapping.target,
        Some(Target::Provision | Target::Passthrough)
    ) || matches!(
        mapping.resolution,
        Resolution::Provision | Resolution::Passthrough
    );
    match (expected, linked) {
        (Some(want), Some(got)) if want == got => Outcome::Correct,
        (_, Some(_)) => Outcome::FalseMerge,
        (None, None) => Outcome::Correct,
        (Some(_), None) if creates => Outcome::Duplicate,
        (Some(_), None) => Outcome::Missed,
    }
}

/// Tallies for a set of truth rows. Percentages are `None` when there is nothing to divide by.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Truth rows scored.
    pub rows: usize,
    /// Rows whose identity already existed on the destination.
    pub with_account: usize,
    /// Of those, the rows the data can link (they share an id, address, username or name key).
    pub linkable: usize,
    pub correct: usize,
    pub false_merge: usize,
    pub duplicate: usize,
    pub missed: usize,
    /// Missed rows that nothing in the data can link (a subset of `missed`).
    pub unlinkable: usize,
    /// Duplicated rows that nothing in the data can link (a subset of `duplicate`): the
    /// duplicates no resolver could have avoided, left out of `duplicate_pct`.
    pub duplicate_unlinkable: usize,
    /// Missed rows whose right destination is among the mapping's candidates: a reviewer
    /// is shown the answer (a subset of `missed`).
    pub missed_with_answer: usize,
    /// Linkable rows linked to the right identity, as a % of the linkable rows.
    pub linked_pct: Option<f64>,
    /// Linkable rows that would get a second account, as a % of the linkable rows: the
    /// duplicates among people who already had an account, excluding those nothing in the
    /// data could link.
    pub duplicate_pct: Option<f64>,
    /// False merges as a % of all links made to existing identities.
    pub false_merge_pct_of_links: Option<f64>,
    #[serde(skip)]
    correct_links: usize,
    #[serde(skip)]
    linked_linkable: usize,
    #[serde(skip)]
    duplicate_linkable: usize,
}

impl Counts {
    fn add(&mut self, truth: &Truth, outcome: Outcome, answer_offered: bool) {
        self.rows += 1;
        let has_account = truth.destination_id.is_some();
        let linkable = has_account && truth.linkable;
        self.with_account += usize::from(has_account);
        self.linkable += usize::from(linkable);
        match outcome {
            Outcome::Correct => {
                self.correct += 1;
                self.correct_links += usize::from(has_account);
                self.linked_linkable += usize::from(linkable);
            }
            Outcome::FalseMerge => self.false_merge += 1,
            Outcome::Duplicate => {
                self.duplicate += 1;
                self.duplicate_linkable += usize::from(linkable);
                self.duplicate_unlinkable += usize::from(!linkable);
            }
            Outcome::Missed => {
                self.missed += 1;
                self.unlinkable += usize::from(!truth.linkable);
                self.missed_with_answer += usize::from(answer_offered);
            }
        }
    }

    fn finish(&mut self) {
        let pct = |n: usize, of: usize| (of > 0).then(|| 100.0 * n as f64 / of as f64);
        self.linked_pct = pct(self.linked_linkable, self.linkable);
        self.duplicate_pct = pct(self.duplicate_linkable, self.linkable);
        self.false_merge_pct_of_links =
            pct(self.false_merge, self.correct_links + self.false_merge);
    }
}

/// A link to the wrong identity, with enough to look it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FalseMerge {
    pub kind: IdentityKind,
    pub source_id: String,
    pub source_name: Option<String>,
    /// The right destination id, or `None` when the identity has none on the destination.
    pub expected: Option<String>,
    pub linked_to: String,
    pub linked_name: Option<String>,
    pub resolution: Resolution,
    pub category: String,
}

/// `account s1 (Ann Lee) -> d7 (Ann Leigh) by Name; truth: d3`
impl fmt::Display for FalseMerge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({}) -> {} ({}) by {}; truth: {}",
            self.kind,
            self.source_id,
            self.source_name.as_deref().unwrap_or(""),
            self.linked_to,
            self.linked_name.as_deref().unwrap_or(""),
            self.resolution,
            self.expected
                .as_deref()
                .unwrap_or("none on the destination"),
        )
    }
}

/// The score of one resolver run against truth.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EvalReport {
    /// What was scored (set with [`EvalReport::with_label`]); empty by default.
    pub label: String,
    pub total: Counts,
    /// The same counts per truth category.
    pub by_category: BTreeMap<String, Counts>,
    /// How the scored rows were resolved, in report order, zeros left out.
    pub by_resolution: Vec<(Resolution, usize)>,
    /// Mappings with no truth row (not scored).
    pub unscored: usize,
    /// Every false merge, by source id.
    pub false_merges: Vec<FalseMerge>,
}

impl EvalReport {
    pub fn with_label(mut self, label: impl Into<String>) -> EvalReport {
        self.label = label.into();
        self
    }
}

/// Scores `resolved` (the engine's or a baseline's answer for `source` against
/// `destination`) against `truth`: one outcome per truth row. Fails when the truth names
/// an identity that is not in the directories, names one twice, or has no mapping.
pub fn evaluate(
    source: &Directory,
    destination: &Directory,
    truth: &[Truth],
    resolved: &Resolved,
) -> Result<EvalReport, EvalError> {
    let ids = |accounts: Vec<&str>, groups: Vec<&str>| {
        let mut map: HashMap<(IdentityKind, String), u32> =
            HashMap::with_capacity(accounts.len() + groups.len());
        for (i, id) in accounts.into_iter().enumerate() {
            map.insert((IdentityKind::Account, id.to_string()), i as u32);
        }
        for (i, id) in groups.into_iter().enumerate() {
            map.insert((IdentityKind::Group, id.to_string()), i as u32);
        }
        map
    };
    let source_ids = ids(
        source.accounts.iter().map(|a| a.id.as_str()).collect(),
        source.groups.iter().map(|g| g.id.as_str()).collect(),
    );
    let destination_ids = ids(
        destination.accounts.iter().map(|a| a.id.as_str()).collect(),
        destination.groups.iter().map(|g| g.id.as_str()).collect(),
    );
    let mappings: HashMap<(IdentityKind, u32), &Mapping> = resolved
        .mappings
        .iter()
        .map(|m| ((m.kind, m.source), m))
        .collect();

    let mut report = EvalReport::default();
    let mut scored: HashMap<(IdentityKind, u32), ()> = HashMap::with_capacity(truth.len());
    let mut resolutions = [0usize; Resolution::ALL.len()];
    for (row, t) in truth.iter().enumerate() {
        let row = row + 1;
        let Some(&source_index) = source_ids.get(&(t.kind, t.source_id.clone())) else {
            return Err(EvalError::UnknownSource {
                row,
                kind: t.kind,
                id: t.source_id.clone(),
            });
        };
        if scored.insert((t.kind, source_index), ()).is_some() {
            return Err(EvalError::DuplicateTruth {
                row,
                kind: t.kind,
                id: t.source_id.clone(),
            });
        }
        let expected = match &t.destination_id {
            None => None,
            Some(id) => match destination_ids.get(&(t.kind, id.clone())) {
                Some(&index) => Some(index),
                None => {
                    return Err(EvalError::UnknownDestination {
                        row,
                        kind: t.kind,
                        id: id.clone(),
                    });
                }
            },
        };
        let Some(mapping) = mappings.get(&(t.kind, source_index)) else {
            return Err(EvalError::NoMapping {
                row,
                kind: t.kind,
                id: t.source_id.clone(),
            });
        };
        let outcome = classify(expected, mapping);
        let answer_offered =
            expected.is_some_and(|want| mapping.candidates.iter().any(|c| c.index == want));
        report.total.add(t, outcome, answer_offered);
        report
            .by_category
            .entry(t.category.clone())
            .or_default()
            .add(t, outcome, answer_offered);
        if let Some(slot) = Resolution::ALL
            .iter()
            .position(|r| *r == mapping.resolution)
        {
            resolutions[slot] += 1;
        }
        if outcome == Outcome::FalseMerge
            && let Some(index) = mapping.destination_index()
        {
            let (source_name, linked_to, linked_name) = match t.kind {
                IdentityKind::Account => {
                    let theirs = destination.account(index);
                    (
                        source
                            .account(source_index)
                            .display_name
                            .as_deref()
                            .map(str::to_string),
                        theirs.id.to_string(),
                        theirs.display_name.as_deref().map(str::to_string),
                    )
                }
                IdentityKind::Group => {
                    let theirs = destination.group(index);
                    (
                        Some(source.group(source_index).name.to_string()),
                        theirs.id.to_string(),
                        Some(theirs.name.to_string()),
                    )
                }
            };
            report.false_merges.push(FalseMerge {
                kind: t.kind,
                source_id: t.source_id.clone(),
                source_name,
                expected: t.destination_id.clone(),
                linked_to,
                linked_name,
                resolution: mapping.resolution,
                category: t.category.clone(),
            });
        }
    }
    report.total.finish();
    for counts in report.by_category.values_mut() {
        counts.finish();
    }
    report.by_resolution = Resolution::ALL
        .into_iter()
        .zip(resolutions)
        .filter(|(_, n)| *n > 0)
        .collect();
    report.unscored = resolved.mappings.len().saturating_sub(scored.len());
    report
        .false_merges
        .sort_by(|a, b| a.source_id.cmp(&b.source_id));
    Ok(report)
}

/// How many false merges `Display` lists (JSON has them all).
const FALSE_MERGES_SHOWN: usize = 20;

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.total;
        if !self.label.is_empty() {
            writeln!(f, "{}", self.label)?;
        }
        writeln!(
            f,
            "{} identities scored; {} already had one on the destination, {} of them linkable by the data",
            t.rows, t.with_account, t.linkable
        )?;
        let header = [
            "category",
            "rows",
            "correct",
            "false merge",
            "duplicate",
            "missed",
            "unlinkable",
            "answer offered",
            "linked %",
            "duplicate %",
        ];
        let pct = |p: Option<f64>| p.map_or("-".to_string(), |p| format!("{p:.1}"));
        let line = |name: &str, c: &Counts| -> Vec<String> {
            vec![
                name.to_string(),
                c.rows.to_string(),
                c.correct.to_string(),
                c.false_merge.to_string(),
                c.duplicate.to_string(),
                c.missed.to_string(),
                c.unlinkable.to_string(),
                c.missed_with_answer.to_string(),
                pct(c.linked_pct),
                pct(c.duplicate_pct),
            ]
        };
        let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
        rows.extend(self.by_category.iter().map(|(name, c)| line(name, c)));
        rows.push(line("total", t));
        let widths: Vec<usize> = (0..header.len())
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        for (n, row) in rows.iter().enumerate() {
            if n == rows.len() - 1 {
                let rule: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
                writeln!(f, "{}", "-".repeat(rule))?;
            }
            let mut text = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i == 0 {
                    text.push_str(&format!("{cell:<w$}", w = widths[i]));
                } else {
                    text.push_str(&format!("  {cell:>w$}", w = widths[i]));
                }
            }
            writeln!(f, "{text}")?;
        }
        let links = t.correct_links + t.false_merge;
        writeln!(
            f,
            "links to existing identities: {links}, of which wrong (false merges): {} ({})",
            t.false_merge,
            t.false_merge_pct_of_links
                .map_or("-".to_string(), |p| format!("{p:.2}%"))
        )?;
        let resolutions: Vec<String> = self
            .by_resolution
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        writeln!(
            f,
            "resolutions: {}",
            if resolutions.is_empty() {
                "-".into()
            } else {
                resolutions.join(", ")
            }
        )?;
        if self.unscored > 0 {
            writeln!(
                f,
                "mappings without a truth row (not scored): {}",
                self.unscored
            )?;
        }
        writeln!(
            f,
            "unlinkable: missed, and no id, address, username or name key is shared; answer offered: missed, right account among the candidates"
        )?;
        writeln!(
            f,
            "linked % and duplicate %: of the people who already had an account and are linkable by the data"
        )?;
        if self.false_merges.is_empty() {
            writeln!(f, "false merges: none")?;
        } else {
            writeln!(f, "false merges: {}", self.false_merges.len())?;
            for m in self.false_merges.iter().take(FALSE_MERGES_SHOWN) {
                writeln!(f, "  {m}")?;
            }
            if self.false_merges.len() > FALSE_MERGES_SHOWN {
                writeln!(
                    f,
                    "  ... and {} more",
                    self.false_merges.len() - FALSE_MERGES_SHOWN
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crosswalk_core::{Account, Candidate, Flag, Group, Summary};

    fn account(id: &str) -> Account {
        Account {
            id: id.into(),
            display_name: Some(format!("person {id}").into()),
            active: true,
            ..Account::default()
        }
    }

    fn group(id: &str) -> Group {
        Group {
            id: id.into(),
            name: id.into(),
            ..Group::default()
        }
    }

    fn mapping(
        kind: IdentityKind,
        source: u32,
        resolution: Resolution,
        target: Option<Target>,
    ) -> Mapping {
        Mapping {
            kind,
            source,
            resolution,
            target,
            message: String::new(),
            evidence: vec![],
            candidates: vec![],
            flags: vec![].into(),
            confidence: crosswalk_core::Confidence::CERTAIN,
        }
    }

    fn existing(index: u32) -> Option<Target> {
        Some(Target::Existing { index })
    }

    fn truth(source: &str, destination: Option<&str>, category: &str, linkable: bool) -> Truth {
        Truth {
            kind: IdentityKind::Account,
            source_id: source.into(),
            destination_id: destination.map(Into::into),
            category: category.into(),
            linkable,
        }
    }

    /// Source s0..s10 and group g0, destination d0..d3 and group h0; one mapping per source.
    fn case() -> (Directory, Directory, Vec<Truth>, Resolved) {
        let source = Directory::new(
            "src",
            (0..11).map(|i| account(&format!("s{i}"))).collect(),
            vec![group("g0")],
        )
        .unwrap();
        let destination = Directory::new(
            "dst",
            (0..4).map(|i| account(&format!("d{i}"))).collect(),
            vec![group("h0")],
        )
        .unwrap();
        use IdentityKind::Account as A;
        let mut review = mapping(A, 4, Resolution::Unresolved, None);
        review.candidates.push(Candidate {
            index: 3,
            method: Resolution::Name,
            reason: "same name".into(),
            score: crosswalk_core::Confidence::from_probability(0.5),
        });
        review.flags.push(Flag::Ambiguous);
        let mappings = vec![
            mapping(A, 0, Resolution::Email, existing(0)), // right account
            mapping(A, 1, Resolution::Name, existing(1)),  // someone else's
            mapping(A, 2, Resolution::Provision, Some(Target::Provision)), // had one: duplicate
            mapping(A, 3, Resolution::Passthrough, Some(Target::Passthrough)),
            review,                                      // missed, answer offered
            mapping(A, 5, Resolution::Unresolved, None), // missed, unlinkable
            mapping(A, 6, Resolution::Provision, Some(Target::Provision)), // new person: correct
            mapping(A, 7, Resolution::Name, existing(2)), // new person linked: false merge
            mapping(A, 8, Resolution::Default, existing(1)), // catch-all is not a link: missed
            mapping(A, 9, Resolution::External, Some(Target::External)), // had one: missed
            mapping(A, 10, Resolution::Unresolved, None), // not in the truth
            mapping(IdentityKind::Group, 0, Resolution::Id, existing(0)),
        ];
        let truth = vec![
            truth("s0", Some("d0"), "typo", true),
            truth("s1", Some("d2"), "typo", true),
            truth("s2", Some("d2"), "typo", true),
            truth("s3", Some("d3"), "clean", true),
            truth("s4", Some("d3"), "clean", true),
            truth("s5", Some("d1"), "typo", false),
            truth("s6", None, "new", true),
            truth("s7", None, "new", true),
            truth("s8", Some("d1"), "clean", true),
            truth("s9", Some("d0"), "clean", true),
            Truth {
                kind: IdentityKind::Group,
                source_id: "g0".into(),
                destination_id: Some("h0".into()),
                category: "clean".into(),
                linkable: true,
            },
        ];
        let summary = Summary::of(&mappings);
        (
            source,
            destination,
            truth,
            Resolved {
                mappings,
                summary,
                warnings: vec![],
            },
        )
    }

    #[test]
    fn each_outcome_is_counted() {
        let (source, destination, truth, resolved) = case();
        let report = evaluate(&source, &destination, &truth, &resolved)
            .unwrap()
            .with_label("hand-made");
        let t = &report.total;
        assert_eq!(t.rows, 11);
        assert_eq!(t.with_account, 9);
        assert_eq!(t.linkable, 8);
        assert_eq!(t.correct, 3, "s0, s6 and the group");
        assert_eq!(t.false_merge, 2, "s1 and s7");
        assert_eq!(t.duplicate, 2, "s2 and s3");
        assert_eq!(t.missed, 4, "s4, s5, s8, s9");
        assert_eq!(t.unlinkable, 1, "s5");
        assert_eq!(t.missed_with_answer, 1, "s4");
        assert_eq!(t.correct + t.false_merge + t.duplicate + t.missed, t.rows);
        // 8 linkable rows with an account: s0 and g0 linked, s2 and s3 duplicated.
        assert_eq!(t.linked_pct, Some(25.0));
        assert_eq!(t.duplicate_pct, Some(25.0));
        // 2 right links (s0, g0) and 2 wrong ones.
        assert_eq!(t.false_merge_pct_of_links, Some(50.0));
        assert_eq!(report.unscored, 1);

        let typo = &report.by_category["typo"];
        assert_eq!(
            (
                typo.rows,
                typo.correct,
                typo.false_merge,
                typo.duplicate,
                typo.missed
            ),
            (4, 1, 1, 1, 1)
        );
        assert_eq!(typo.unlinkable, 1);
        assert_eq!(typo.linkable, 3);
        let new = &report.by_category["new"];
        assert_eq!(
            (new.rows, new.correct, new.false_merge, new.with_account),
            (2, 1, 1, 0)
        );
        assert_eq!(new.linked_pct, None);

        let merged: Vec<(&str, &str, Option<&str>)> = report
            .false_merges
            .iter()
            .map(|m| {
                (
                    m.source_id.as_str(),
                    m.linked_to.as_str(),
                    m.expected.as_deref(),
                )
            })
            .collect();
        assert_eq!(merged, [("s1", "d1", Some("d2")), ("s7", "d2", None)]);
        assert!(report.by_resolution.contains(&(Resolution::Provision, 2)));

        let text = report.to_string();
        assert!(text.starts_with("hand-made\n"));
        assert!(text.contains("false merges: 2"));
        assert!(text.contains(
            "links to existing identities: 4, of which wrong (false merges): 2 (50.00%)"
        ));
        assert!(text.contains("s1 (person s1) -> d1 (person d1) by Name; truth: d2"));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["total"]["false_merge"], 2);
        assert_eq!(json["by_category"]["typo"]["unlinkable"], 1);
        assert_eq!(json["false_merges"][0]["resolution"], "Name");
    }

    #[test]
    fn table_columns_line_up() {
        let (source, destination, truth, resolved) = case();
        let text = evaluate(&source, &destination, &truth, &resolved)
            .unwrap()
            .to_string();
        let lines: Vec<&str> = text.lines().skip(1).take(5).collect();
        assert!(lines[0].starts_with("category"));
        let width = lines[0].chars().count();
        assert!(lines.iter().all(|l| l.chars().count() == width), "{text}");
        assert!(text.contains("\ntotal "));
    }

    #[test]
    fn truth_that_does_not_fit_the_directories_is_refused() {
        let (source, destination, mut truth, resolved) = case();
        truth.push(truth[0].clone());
        assert!(matches!(
            evaluate(&source, &destination, &truth, &resolved),
            Err(EvalError::DuplicateTruth { row: 12, .. })
        ));
        let (source, destination, mut truth, resolved) = case();
        truth[0].source_id = "nobody".into();
        assert!(matches!(
            evaluate(&source, &destination, &truth, &resolved),
            Err(EvalError::UnknownSource { .. })
        ));
        let (source, destination, mut truth, resolved) = case();
        truth[0].destination_id = Some("nobody".into());
        assert!(matches!(
            evaluate(&source, &destination, &truth, &resolved),
            Err(EvalError::UnknownDestination { .. })
        ));
        let (source, destination, truth, mut resolved) = case();
        resolved.mappings.remove(0);
        assert!(matches!(
            evaluate(&source, &destination, &truth, &resolved),
            Err(EvalError::NoMapping { .. })
        ));
    }

    #[test]
    fn no_identity_on_the_destination_is_right_unless_linked() {
        let m = |resolution, target| mapping(IdentityKind::Account, 0, resolution, target);
        assert_eq!(
            classify(None, &m(Resolution::Unresolved, None)),
            Outcome::Correct
        );
        assert_eq!(
            classify(None, &m(Resolution::External, Some(Target::External))),
            Outcome::Correct
        );
        assert_eq!(
            classify(None, &m(Resolution::Default, existing(3))),
            Outcome::Correct
        );
        assert_eq!(
            classify(None, &m(Resolution::Exception, existing(3))),
            Outcome::FalseMerge
        );
        assert_eq!(
            classify(Some(3), &m(Resolution::Exception, existing(3))),
            Outcome::Correct
        );
        assert_eq!(
            classify(
                Some(3),
                &m(Resolution::Default, Some(Target::Named { id: "x".into() }))
            ),
            Outcome::Missed
        );
    }
}
