//! The engine and the email-only rule scored side by side on one labelled pair: what
//! `crosswalk eval` prints and BENCHMARKS.md records.

use std::fmt;

use crosswalk_core::{Directory, ExceptionRule, Policy, resolve};
use serde::Serialize;

use crate::baseline::email_only_baseline;
use crate::error::EvalError;
use crate::evaluate::{Counts, EvalReport, evaluate};
use crate::truth::Truth;

/// Short name of the engine run with the policy as given.
pub const RULE_ENGINE: &str = "crosswalk";
/// Short name of the engine run with the same policy and `fallback.provision = true`.
pub const RULE_ENGINE_PROVISION: &str = "crosswalk+provision";
/// Short name of [`email_only_baseline`].
pub const RULE_EMAIL_ONLY: &str = "email-only";

/// One resolver's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// Short name: [`RULE_ENGINE`], [`RULE_ENGINE_PROVISION`] or [`RULE_EMAIL_ONLY`].
    pub rule: String,
    /// What the rule is, in a sentence.
    pub description: String,
    /// Whether this is the Crosswalk engine (whose false merges fail the evaluation).
    pub engine: bool,
    pub report: EvalReport,
}

/// Every resolver's score on one labelled pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// What was scored, in a line (`generated pair, 10000 accounts, seed 42`).
    pub dataset: String,
    /// The policy the engine ran with.
    pub policy: Policy,
    /// Where the policy came from, in a few words (`policy.toml`, `the default policy`).
    pub policy_origin: String,
    /// Exception rules the engine ran with (the email-only rule has none).
    pub exceptions: usize,
    pub results: Vec<Scored>,
    /// False merges made by the engine runs, all together: the gate.
    pub engine_false_merges: usize,
}

impl Comparison {
    /// Whether the engine made no false merge in any run.
    pub fn passed(&self) -> bool {
        self.engine_false_merges == 0
    }
}

/// Runs the engine with `policy` (and `exceptions`), the engine again with
/// `fallback.provision = true` when the policy leaves unresolved identities unresolved (so
/// that the duplicates a migration would create are measured too), and the email-only
/// rule, and scores each against `truth`.
pub fn compare(
    dataset: impl Into<String>,
    source: &Directory,
    destination: &Directory,
    truth: &[Truth],
    policy: &Policy,
    policy_origin: impl Into<String>,
    exceptions: &[ExceptionRule],
) -> Result<Comparison, EvalError> {
    let mut results = Vec::with_capacity(3);
    let mut run_engine =
        |rule: &str, description: String, policy: &Policy| -> Result<(), EvalError> {
            let resolved = resolve(source, destination, policy, exceptions);
            let report = evaluate(source, destination, truth, &resolved)?.with_label(rule);
            results.push(Scored {
                rule: rule.into(),
                description,
                engine: true,
                report,
            });
            Ok(())
        };
    let origin = policy_origin.into();
    run_engine(
        RULE_ENGINE,
        format!("the Crosswalk engine with {origin}"),
        policy,
    )?;
    let fallback = &policy.fallback;
    if !(fallback.provision || fallback.passthrough || fallback.default_account.is_some()) {
        let mut provisioning = policy.clone();
        provisioning.fallback.provision = true;
        run_engine(
            RULE_ENGINE_PROVISION,
            "the same, with fallback.provision = true: what no method links is created".into(),
            &provisioning,
        )?;
    }
    let resolved = email_only_baseline(source, destination);
    let report = evaluate(source, destination, truth, &resolved)?.with_label(RULE_EMAIL_ONLY);
    results.push(Scored {
        rule: RULE_EMAIL_ONLY.into(),
        description:
            "link by case-insensitive email, otherwise create (groups: by case-insensitive name)"
                .into(),
        engine: false,
        report,
    });
    let engine_false_merges = results
        .iter()
        .filter(|r| r.engine)
        .map(|r| r.report.total.false_merge)
        .sum();
    Ok(Comparison {
        dataset: dataset.into(),
        policy: policy.clone(),
        policy_origin: origin,
        exceptions: exceptions.len(),
        results,
        engine_false_merges,
    })
}

/// How many false merges per rule the text lists (JSON has them all).
const FALSE_MERGES_SHOWN: usize = 10;

/// Table cells of one rule in one category.
fn cells(c: &Counts, thousands: bool) -> [String; 7] {
    let n = |v: usize| {
        if thousands {
            with_thousands(v)
        } else {
            v.to_string()
        }
    };
    [
        n(c.correct),
        n(c.false_merge),
        n(c.duplicate),
        c.duplicate_pct
            .map_or_else(|| "-".into(), |p| format!("{p:.2}%")),
        n(c.missed),
        n(c.unlinkable + c.duplicate_unlinkable),
        n(c.missed_with_answer),
    ]
}

const HEADER: [&str; 11] = [
    "category",
    "rows",
    "had one",
    "rule",
    "correct",
    "false merges",
    "duplicates",
    "dup %",
    "missed",
    "unlinkable",
    "offered",
];

impl Comparison {
    /// The table's rows (header first): one per category and rule, then the totals.
    fn table(&self, thousands: bool) -> Vec<Vec<String>> {
        let n = |v: usize| {
            if thousands {
                with_thousands(v)
            } else {
                v.to_string()
            }
        };
        let mut rows: Vec<Vec<String>> = vec![HEADER.iter().map(|h| h.to_string()).collect()];
        let Some(first) = self.results.first() else {
            return rows;
        };
        let categories = first
            .report
            .by_category
            .keys()
            .map(Some)
            .chain(std::iter::once(None));
        for category in categories {
            for (i, scored) in self.results.iter().enumerate() {
                let counts = match category {
                    Some(name) => &scored.report.by_category[name],
                    None => &scored.report.total,
                };
                let mut row = if i == 0 {
                    vec![
                        category.map_or("total", String::as_str).to_string(),
                        n(counts.rows),
                        n(counts.with_account),
                    ]
                } else {
                    vec![String::new(); 3]
                };
                row.push(scored.rule.clone());
                row.extend(cells(counts, thousands));
                rows.push(row);
            }
        }
        rows
    }

    /// The side-by-side table as GitHub Markdown, for BENCHMARKS.md.
    pub fn to_markdown(&self) -> String {
        let rows = self.table(true);
        let mut out = String::new();
        for (i, row) in rows.iter().enumerate() {
            let bold_total = row[0] == "total";
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(j, cell)| {
                    // False merges stand out: they are the figure that must be zero.
                    if i > 0 && (j == 5 || (bold_total && j == 0)) && !cell.is_empty() {
                        format!("**{cell}**")
                    } else {
                        cell.clone()
                    }
                })
                .collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
            if i == 0 {
                let align: Vec<&str> = (0..row.len())
                    .map(|j| if j == 0 || j == 3 { "---" } else { "---:" })
                    .collect();
                out.push_str(&format!("|{}|\n", align.join("|")));
            }
        }
        out
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.dataset)?;
        let exceptions = if self.exceptions > 0 {
            format!(", {} exception rules", self.exceptions)
        } else {
            String::new()
        };
        writeln!(f, "engine policy: {}{exceptions}", self.policy_origin)?;
        if let Some(first) = self.results.first() {
            let t = &first.report.total;
            writeln!(
                f,
                "{} identities scored; {} already had one on the destination, {} of them linkable by the data, {} unlinkable",
                t.rows,
                t.with_account,
                t.linkable,
                t.with_account - t.linkable
            )?;
        }
        writeln!(f)?;
        let rows = self.table(false);
        let widths: Vec<usize> = (0..rows[0].len())
            .map(|j| rows.iter().map(|r| r[j].chars().count()).max().unwrap_or(0))
            .collect();
        let total_starts = rows.iter().position(|r| r[0] == "total");
        for (i, row) in rows.iter().enumerate() {
            if Some(i) == total_starts || (i > 1 && !row[0].is_empty() && self.results.len() > 1) {
                let rule: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
                let c = if Some(i) == total_starts { '=' } else { '-' };
                writeln!(f, "{}", c.to_string().repeat(rule))?;
            }
            let mut text = String::new();
            for (j, cell) in row.iter().enumerate() {
                let w = widths[j];
                if j > 0 {
                    text.push_str("  ");
                }
                if j == 0 || j == 3 {
                    text.push_str(&format!("{cell:<w$}"));
                } else {
                    text.push_str(&format!("{cell:>w$}"));
                }
            }
            writeln!(f, "{}", text.trim_end())?;
        }
        writeln!(f)?;
        writeln!(f, "rules:")?;
        for scored in &self.results {
            writeln!(f, "  {}: {}", scored.rule, scored.description)?;
        }
        writeln!(f, "columns:")?;
        writeln!(
            f,
            "  rows: identities scored; had one: of them, those who already had an identity on the destination"
        )?;
        writeln!(
            f,
            "  false merges: linked to an existing identity that is someone else's (must be 0)"
        )?;
        writeln!(
            f,
            "  duplicates: a new identity created for someone who already had one"
        )?;
        writeln!(
            f,
            "  dup %: duplicates among those who had one and whom the data can link, as a % of them"
        )?;
        writeln!(
            f,
            "  missed: had one, not linked to it (left for review, kept external, or sent to a default account)"
        )?;
        writeln!(
            f,
            "  unlinkable: missed or duplicated, and nothing in the data (id, address, username, name) links the two records"
        )?;
        writeln!(
            f,
            "  offered: missed, with the right identity among the review candidates"
        )?;
        for scored in &self.results {
            let r = &scored.report;
            writeln!(f)?;
            let resolutions: Vec<String> = r
                .by_resolution
                .iter()
                .map(|(res, n)| format!("{res} {n}"))
                .collect();
            writeln!(
                f,
                "{}: resolutions {}",
                scored.rule,
                if resolutions.is_empty() {
                    "-".into()
                } else {
                    resolutions.join(", ")
                }
            )?;
            if r.unscored > 0 {
                writeln!(
                    f,
                    "  mappings without a truth row (not scored): {}",
                    r.unscored
                )?;
            }
            if r.false_merges.is_empty() {
                writeln!(f, "  false merges: none")?;
                continue;
            }
            writeln!(f, "  false merges: {}", r.false_merges.len())?;
            for m in r.false_merges.iter().take(FALSE_MERGES_SHOWN) {
                writeln!(f, "    [{}] {m}", m.category)?;
            }
            if r.false_merges.len() > FALSE_MERGES_SHOWN {
                writeln!(
                    f,
                    "    ... and {} more (--format json lists them all)",
                    r.false_merges.len() - FALSE_MERGES_SHOWN
                )?;
            }
        }
        writeln!(f)?;
        if self.passed() {
            writeln!(f, "engine false merges: 0")
        } else {
            writeln!(
                f,
                "engine false merges: {} (FAIL)",
                self.engine_false_merges
            )
        }
    }
}

/// `12345` as `12,345`.
fn with_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crosswalk_core::{Account, Group, IdentityKind};

    fn account(id: &str, email: &str, name: &str) -> Account {
        Account {
            id: id.into(),
            email: Some(email.into()),
            display_name: Some(name.into()),
            active: true,
            email_verified: Some(true),
            ..Account::default()
        }
    }

    fn truth(source: &str, destination: Option<&str>, category: &str) -> Truth {
        Truth {
            kind: IdentityKind::Account,
            source_id: source.into(),
            destination_id: destination.map(Into::into),
            category: category.into(),
            linkable: false,
        }
    }

    fn pair() -> (Directory, Directory) {
        let source = Directory::new(
            "src",
            vec![
                account("s1", "jo@acme.com", "Jo Ray"),
                account("s2", "May@acme.com", "May Li"),
                account("s3", "new@acme.com", "New Person"),
            ],
            vec![Group {
                id: "g1".into(),
                name: "Devs".into(),
                ..Group::default()
            }],
        )
        .unwrap();
        let destination = Directory::new(
            "dst",
            vec![account("d1", "jo@acme.com", "Jo Ray"), {
                let mut may = account("d2", "may.li@acme.com", "May Li");
                may.alias_emails = vec!["smtp:may@acme.com".into()];
                may
            }],
            vec![Group {
                id: "h1".into(),
                name: "devs".into(),
                ..Group::default()
            }],
        )
        .unwrap();
        (source, destination)
    }

    #[test]
    fn three_rules_side_by_side() {
        let (source, destination) = pair();
        let mut truth = vec![
            truth("s1", Some("d1"), "exact"),
            truth("s2", Some("d2"), "alias"),
            truth("s3", None, "new"),
        ];
        crate::confirm_linkable(&source, &destination, &mut truth, &Default::default());
        assert!(truth[0].linkable && truth[1].linkable && !truth[2].linkable);
        let comparison = compare(
            "hand-made",
            &source,
            &destination,
            &truth,
            &Policy::default(),
            "the default policy",
            &[],
        )
        .unwrap();
        let rules: Vec<&str> = comparison.results.iter().map(|r| r.rule.as_str()).collect();
        assert_eq!(rules, [RULE_ENGINE, RULE_ENGINE_PROVISION, RULE_EMAIL_ONLY]);
        assert!(comparison.passed());
        let engine = &comparison.results[0].report.total;
        assert_eq!(
            (engine.correct, engine.false_merge, engine.duplicate),
            (3, 0, 0)
        );
        let naive = &comparison.results[2].report.total;
        assert_eq!(
            (naive.correct, naive.duplicate),
            (2, 1),
            "May's address is only an alias: a duplicate"
        );
        assert_eq!(naive.duplicate_pct, Some(50.0));

        let text = comparison.to_string();
        assert!(
            text.starts_with("hand-made\nengine policy: the default policy\n"),
            "{text}"
        );
        assert!(text.contains("engine false merges: 0"), "{text}");
        let header = text.lines().find(|l| l.starts_with("category")).unwrap();
        for column in HEADER {
            assert!(header.contains(column), "{header}");
        }
        let markdown = comparison.to_markdown();
        assert!(markdown.starts_with("| category | rows |"), "{markdown}");
        assert!(
            markdown.contains("| **total** | 3 | 2 | crosswalk |"),
            "{markdown}"
        );
        let json = serde_json::to_value(&comparison).unwrap();
        assert_eq!(json["engine_false_merges"], 0);
        assert_eq!(json["results"][2]["report"]["total"]["duplicate"], 1);
    }

    #[test]
    fn a_policy_that_creates_runs_once() {
        let (source, destination) = pair();
        let truth = vec![truth("s1", Some("d2"), "mislabelled")];
        let mut policy = Policy::default();
        policy.fallback.provision = true;
        let comparison = compare("x", &source, &destination, &truth, &policy, "p", &[]).unwrap();
        assert_eq!(comparison.results.len(), 2);
        assert_eq!(
            comparison.engine_false_merges, 1,
            "the truth says s1 is d2's: linking d1 is a false merge"
        );
        assert!(!comparison.passed());
        assert!(
            comparison
                .to_string()
                .contains("engine false merges: 1 (FAIL)")
        );
    }

    #[test]
    fn thousands() {
        assert_eq!(with_thousands(0), "0");
        assert_eq!(with_thousands(999), "999");
        assert_eq!(with_thousands(1000), "1,000");
        assert_eq!(with_thousands(1_234_567), "1,234,567");
    }
}
