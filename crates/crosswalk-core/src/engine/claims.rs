//! Two or more source identities linked to one destination identity: settled after the
//! chain has run for every identity, and never left silent.

use rayon::prelude::*;

use super::Context;
use super::chain::Draft;
use crate::directory::IdentityKind;
use crate::mapping::{Flag, Resolution, Target};
use crate::policy::DuplicateClaims;

/// Several exception rules send different source identities (`kept`, in source-id order) to
/// one destination: an explicit merge, allowed, and said in each mapping's message and in
/// the run's warnings.
fn say_explicit_merge(
    drafts: &mut [Draft],
    kept: &[usize],
    kind: IdentityKind,
    destination: &str,
    source_id: &impl Fn(&[Draft], usize) -> String,
    warnings: &mut Vec<String>,
) {
    // The rule's origin is the key of an exception's evidence.
    let origin = |drafts: &[Draft], i: usize| {
        drafts[i]
            .evidence
            .first()
            .map_or_else(String::new, |e| e.key.to_string())
    };
    let labels: Vec<String> = kept
        .iter()
        .map(|&i| format!("{} ({})", source_id(drafts, i), origin(drafts, i)))
        .collect();
    warnings.push(format!(
        "exceptions send {} source {kind}s to destination {kind} {destination}: {}; an explicit merge",
        kept.len(),
        labels.join(", ")
    ));
    for (n, &i) in kept.iter().enumerate() {
        // Five others are named, as for shared claims.
        let others: Vec<&str> = labels
            .iter()
            .enumerate()
            .filter(|&(m, _)| m != n)
            .take(5)
            .map(|(_, l)| l.as_str())
            .collect();
        let more = kept.len() - 1 - others.len();
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        drafts[i].say(format!(
            "explicit merge: exceptions also send {}{more} to destination {kind} {destination}",
            others.join(", ")
        ));
    }
}

/// Two or more source identities linked to one destination identity: never left silent.
/// Exceptions are explicit and keep their link; automatic links are undone unless the
/// policy says to merge, in which case every claimant keeps it (no winner is picked).
pub(super) fn settle_shared_destinations(
    drafts: &mut [Draft],
    kind: IdentityKind,
    ctx: &Context<'_>,
    warnings: &mut Vec<String>,
) {
    // (destination, position) pairs sorted: a run of equal destinations is one shared claim.
    // A flat vector, not a map of vectors: at a million claims that is 8 MB and one sort.
    let mut claims: Vec<(u32, u32)> = drafts
        .par_iter()
        .enumerate()
        .filter_map(|(position, draft)| {
            match (&draft.target, draft.resolution != Resolution::Default) {
                (Some(Target::Existing { index }), true) => Some((*index, position as u32)),
                _ => None,
            }
        })
        .collect();
    claims.par_sort_unstable();
    let shared: Vec<(u32, Vec<usize>)> = claims
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
        .map(|run| {
            (
                run[0].0,
                run.iter().map(|&(_, position)| position as usize).collect(),
            )
        })
        .collect();
    drop(claims);
    let source_id = |drafts: &[Draft], i: usize| match kind {
        IdentityKind::Account => ctx.source.account(drafts[i].source).id.to_string(),
        IdentityKind::Group => ctx.source.group(drafts[i].source).id.to_string(),
    };
    let destination_id = |index: u32| match kind {
        IdentityKind::Account => ctx.destination.account(index).id.clone(),
        IdentityKind::Group => ctx.destination.group(index).id.clone(),
    };
    // Lower is stronger. An exception is explicit; an id or an address is about one person;
    // a name is the weakest claim there is.
    let strength = |r: Resolution| match r {
        Resolution::Exception => 0,
        Resolution::Id => 1,
        Resolution::Email => 2,
        Resolution::Username => 3,
        _ => 4,
    };
    // Positions follow source ids (mappings are built in id order), so each run of
    // claimants is in source-id order already.
    for (index, claimants) in shared {
        let best = claimants
            .iter()
            .map(|&i| strength(drafts[i].resolution))
            .min()
            .unwrap_or(4);
        let strongest: Vec<usize> = claimants
            .iter()
            .copied()
            .filter(|&i| strength(drafts[i].resolution) == best)
            .collect();
        // Exceptions all keep their link; otherwise only a claim stronger than every other does.
        let kept: Vec<usize> = if best == 0 || strongest.len() == 1 {
            strongest
        } else {
            Vec::new()
        };
        let destination = destination_id(index);
        if best == 0 && kept.len() > 1 {
            say_explicit_merge(drafts, &kept, kind, &destination, &source_id, warnings);
        }
        for &i in claimants.iter().filter(|i| !kept.contains(i)) {
            // Five others are named: a shared mailbox can have thousands of claimants, and
            // naming them all to each of them would take the square of that.
            let others: Vec<String> = claimants
                .iter()
                .filter(|&&j| j != i)
                .take(5)
                .map(|&j| source_id(drafts, j))
                .collect();
            let more = claimants.len() - 1 - others.len();
            let others_text = if more > 0 {
                format!("{} and {more} more", others.join(", "))
            } else {
                others.join(", ")
            };
            let draft = &mut drafts[i];
            let method = draft.resolution;
            let tied = kept.is_empty();
            // Merging is the policy's explicit choice: every claimant keeps its link.
            if ctx.policy.duplicate_claims == DuplicateClaims::Merge {
                draft.flag(
                    Flag::SharedDestination,
                    format!("merged: destination {kind} {destination} also receives {others_text} (policy duplicate_claims = \"merge\")"),
                );
                continue;
            }
            let why = if tied {
                format!(
                    "{} source {kind}s claim destination {destination}",
                    claimants.len()
                )
            } else {
                let winner = kept
                    .iter()
                    .map(|&j| source_id(drafts, j))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "destination {kind} {destination} is linked to {winner} by {}",
                    drafts[kept[0]].resolution
                )
            };
            let draft = &mut drafts[i];
            draft.candidate(
                index,
                method,
                format!("found by {method}, also claimed by {others_text}"),
            );
            let advice = if tied {
                "add an exception, or set duplicate_claims = \"merge\""
            } else {
                "add an exception if this is wrong"
            };
            draft.flag(
                Flag::SharedDestination,
                format!("{why} (with {others_text}): not linked by {method}; {advice}"),
            );
            draft.resolution = Resolution::Unresolved;
            draft.target = None;
        }
    }
}
