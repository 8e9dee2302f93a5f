//! What accepting every review suggestion would do, at several thresholds: how many
//! suggestions there are, and how many would link someone to the wrong identity. The
//! suggestion rule is core's ([`crosswalk_core::suggest`]); this only scores it.

use std::collections::HashMap;
use std::fmt;

use crosswalk_core::{Confidence, Directory, IdentityKind, Resolved, suggest};
use serde::Serialize;

use crate::truth::Truth;

/// The thresholds `crosswalk eval --suggestions` scores.
pub const THRESHOLDS: [u16; 8] = [500, 700, 800, 850, 880, 900, 920, 950];

/// Accepting every suggestion at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SuggestionTally {
    /// In thousandths.
    pub threshold: u16,
    /// Suggestions on labelled rows.
    pub suggestions: usize,
    /// Would link the right identity.
    pub right: usize,
    /// Would link someone else's identity (a false merge made by a person's click), or an
    /// identity for someone who has none on the destination.
    pub wrong: usize,
}

/// The trade-off at each of `thresholds` (thousandths), for mappings with a truth row.
pub fn suggestion_tradeoff(
    source: &Directory,
    destination: &Directory,
    truth: &[Truth],
    resolved: &Resolved,
    thresholds: &[u16],
) -> Vec<SuggestionTally> {
    let mut expected: HashMap<(IdentityKind, &str), Option<&str>> =
        HashMap::with_capacity(truth.len());
    for row in truth {
        expected.insert(
            (row.kind, row.source_id.as_str()),
            row.destination_id.as_deref(),
        );
    }
    let mut tallies: Vec<SuggestionTally> = thresholds
        .iter()
        .map(|&threshold| SuggestionTally {
            threshold,
            suggestions: 0,
            right: 0,
            wrong: 0,
        })
        .collect();
    let lowest = thresholds.iter().copied().min().unwrap_or(0);
    for mapping in &resolved.mappings {
        let Some(found) = suggest(mapping, Confidence::from_thousandths(lowest)) else {
            continue;
        };
        let (source_id, candidate_id) = match mapping.kind {
            IdentityKind::Account => (
                source.accounts[mapping.source as usize].id.as_str(),
                destination.accounts[mapping.candidates[found.candidate].index as usize]
                    .id
                    .as_str(),
            ),
            IdentityKind::Group => (
                source.groups[mapping.source as usize].id.as_str(),
                destination.groups[mapping.candidates[found.candidate].index as usize]
                    .id
                    .as_str(),
            ),
        };
        let Some(want) = expected.get(&(mapping.kind, source_id)) else {
            continue;
        };
        let right = *want == Some(candidate_id);
        for tally in tallies
            .iter_mut()
            .filter(|t| found.score.thousandths() >= t.threshold)
        {
            tally.suggestions += 1;
            tally.right += usize::from(right);
            tally.wrong += usize::from(!right);
        }
    }
    tallies
}

/// The trade-off on one data set, as `crosswalk eval --suggestions` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuggestionReport {
    pub dataset: String,
    /// The default threshold, in thousandths.
    pub default_threshold: u16,
    pub tallies: Vec<SuggestionTally>,
}

impl fmt::Display for SuggestionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.dataset)?;
        writeln!(
            f,
            "accepting every review suggestion at or above a threshold (default {}):",
            Confidence::from_thousandths(self.default_threshold)
        )?;
        writeln!(f, "| threshold | suggestions | right | wrong |")?;
        writeln!(f, "|---|---|---|---|")?;
        for t in &self.tallies {
            writeln!(
                f,
                "| {} | {} | {} | {} |",
                Confidence::from_thousandths(t.threshold),
                t.suggestions,
                t.right,
                t.wrong
            )?;
        }
        Ok(())
    }
}
