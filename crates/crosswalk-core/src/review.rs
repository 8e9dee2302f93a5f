//! Review suggestions: which Unresolved mappings a person could accept as they stand, and
//! with which candidate. One definition, used by the review queue, its bulk accept and any
//! report filter, so "suggested" means the same everywhere.
//!
//! A suggestion is an Unresolved mapping whose best candidate is strong (scored at least the
//! threshold by the engine), clearly ahead (no other candidate scores [`RUNNER_UP_CEILING`]
//! or more), and about which the engine raised nothing a person must look at: a flagged
//! mapping (look-alike, ambiguous, shared destination, bad exception, reserved group,
//! deactivated account, unverified address) is never suggested; only an invalid source
//! address, which says no more than that one address could not be used, is let through.
//! A candidate a person rejected is not suggested again. How the default threshold was chosen
//! is in `docs/matching.md`.

use crate::engine::RUNNER_UP_CEILING;
use crate::mapping::{Confidence, Flag, Mapping, Resolution};

/// The default threshold: accepting every suggestion at or above it made no wrong link on
/// the labelled data (`docs/matching.md` has the figures and the command).
pub const SUGGESTION_THRESHOLD: Confidence = Confidence::from_thousandths(900);

/// The start of the reason the engine gives a look-alike candidate: never suggested.
const LOOK_ALIKE_REASON: &str = "look-alike";

/// One candidate, as the review sees it: its score and reason, and whether a person has
/// already rejected it for this mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewCandidate<'a> {
    pub score: Confidence,
    pub reason: &'a str,
    pub rejected: bool,
}

/// A suggestion: which candidate (its position in the mapping's list), its score, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub candidate: usize,
    pub score: Confidence,
    pub why: String,
}

/// The suggestion for a mapping, if it is one (see the module's rules), at `min_score`.
pub fn suggestion(
    resolution: Resolution,
    flags: &[Flag],
    candidates: &[ReviewCandidate<'_>],
    min_score: Confidence,
) -> Option<Suggestion> {
    if resolution != Resolution::Unresolved || flags.iter().any(|flag| *flag != Flag::InvalidEmail)
    {
        return None;
    }
    // The best first, the earliest on a tie (the engine lists candidates best first).
    let (position, best) = candidates.iter().enumerate().fold(
        None::<(usize, &ReviewCandidate<'_>)>,
        |best, (i, c)| match best {
            Some((_, b)) if b.score >= c.score => best,
            _ => Some((i, c)),
        },
    )?;
    if best.rejected || best.score < min_score || best.reason.starts_with(LOOK_ALIKE_REASON) {
        return None;
    }
    let ceiling = Confidence::from_probability(RUNNER_UP_CEILING);
    if candidates
        .iter()
        .enumerate()
        .any(|(i, c)| i != position && c.score >= ceiling)
    {
        return None;
    }
    let others = if candidates.len() > 1 {
        format!("; every other candidate scored below {ceiling}")
    } else {
        String::new()
    };
    Some(Suggestion {
        candidate: position,
        score: best.score,
        why: format!("scored {}: {}{others}", best.score, best.reason),
    })
}

/// [`suggestion`] for one of the engine's mappings, nothing rejected.
pub fn suggest(mapping: &Mapping, min_score: Confidence) -> Option<Suggestion> {
    let candidates: Vec<ReviewCandidate<'_>> = mapping
        .candidates
        .iter()
        .map(|c| ReviewCandidate {
            score: c.score,
            reason: &c.reason,
            rejected: false,
        })
        .collect();
    suggestion(mapping.resolution, &mapping.flags, &candidates, min_score)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(score: u16, reason: &str) -> ReviewCandidate<'_> {
        ReviewCandidate {
            score: Confidence::from_thousandths(score),
            reason,
            rejected: false,
        }
    }

    #[test]
    fn a_strong_lone_candidate_of_an_unresolved_mapping_is_suggested() {
        let found = suggestion(
            Resolution::Unresolved,
            &[],
            &[candidate(920, "same name"), candidate(300, "nickname")],
            SUGGESTION_THRESHOLD,
        )
        .unwrap();
        assert_eq!(found.candidate, 0);
        assert_eq!(
            found.why,
            "scored 0.92: same name; every other candidate scored below 0.50"
        );
    }

    #[test]
    fn weak_ambiguous_flagged_rejected_or_resolved_mappings_are_not() {
        let strong = [candidate(920, "same name")];
        assert!(
            suggestion(
                Resolution::Unresolved,
                &[],
                &[candidate(700, "same name")],
                SUGGESTION_THRESHOLD
            )
            .is_none()
        );
        assert!(
            suggestion(
                Resolution::Unresolved,
                &[],
                &[candidate(920, "a"), candidate(600, "b")],
                SUGGESTION_THRESHOLD
            )
            .is_none()
        );
        assert!(suggestion(Resolution::Name, &[], &strong, SUGGESTION_THRESHOLD).is_none());
        for flag in [
            Flag::LookAlike,
            Flag::Ambiguous,
            Flag::SharedDestination,
            Flag::Inactive,
            Flag::UnverifiedEmail,
        ] {
            assert!(
                suggestion(
                    Resolution::Unresolved,
                    &[flag],
                    &strong,
                    SUGGESTION_THRESHOLD
                )
                .is_none(),
                "{flag:?}"
            );
        }
        assert!(
            suggestion(
                Resolution::Unresolved,
                &[Flag::InvalidEmail],
                &strong,
                SUGGESTION_THRESHOLD
            )
            .is_some()
        );
        assert!(
            suggestion(
                Resolution::Unresolved,
                &[],
                &[candidate(990, "look-alike of john@acme.com")],
                SUGGESTION_THRESHOLD
            )
            .is_none()
        );
        let rejected = [ReviewCandidate {
            rejected: true,
            ..candidate(920, "same name")
        }];
        assert!(suggestion(Resolution::Unresolved, &[], &rejected, SUGGESTION_THRESHOLD).is_none());
        assert!(suggestion(Resolution::Unresolved, &[], &[], Confidence::NONE).is_none());
    }
}
