//! What makes the engine faster without changing what it decides. At a million accounts
//! the engine waits on memory more than it computes: an account's look-ups are a chain of
//! cache misses (a table's control bytes, its slot, the key), each waiting for the one before.
//! Look-ups of different accounts do not depend on each other, so they are issued together
//! here and their misses overlap. The chain (`chain.rs`) reads the results as if it had looked
//! them up itself; `Probe::alone` is that way, one step after another. A property test
//! (`probing_ahead_decides_nothing` in `tests/it/properties.rs`) resolves arbitrary
//! directories with and without probing ahead and finds the same mappings.

use rayon::prelude::*;
use smallvec::SmallVec;

use super::Context;
use super::keys::AccountKeys;
use crate::policy::Method;

/// Reads a value only so that it is in cache when it is needed. A loop of such reads over
/// records that do not depend on each other lets the processor fetch them all at once,
/// where using each record as it is reached waits out each fetch in turn. (`black_box`
/// keeps the read; a prefetch instruction would need `unsafe`, which the workspace forbids.)
#[inline(always)]
pub(super) fn fetch<T>(value: T) {
    std::hint::black_box(value);
}

/// One bit per identity, for a property read of many identities in a random order: the bits
/// of a million accounts fit in a processor cache, the accounts do not.
#[derive(Default)]
pub(super) struct Bits(Vec<u64>);

impl Bits {
    pub(super) fn from_bools(bools: impl IndexedParallelIterator<Item = bool>) -> Bits {
        let bools: Vec<bool> = bools.collect();
        Bits(
            bools
                .par_chunks(64)
                .map(|chunk| {
                    chunk
                        .iter()
                        .rev()
                        .fold(0u64, |word, &b| word << 1 | u64::from(b))
                })
                .collect(),
        )
    }

    pub(super) fn get(&self, index: u32) -> bool {
        self.0
            .get(index as usize / 64)
            .is_some_and(|word| word >> (index % 64) & 1 == 1)
    }
}

/// An id's first sixteen bytes as a number, padded with zeros: ids in this order are in
/// the order of their text, but for those the prefix cannot tell apart, which must then be
/// compared whole. A comparison of two numbers is much cheaper than one of two strings.
pub(super) fn id_prefix(id: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let head = &id.as_bytes()[..id.len().min(16)];
    bytes[..head.len()].copy_from_slice(head);
    u128::from_be_bytes(bytes)
}

/// The slot of each of a source account's addresses (in [`AccountKeys::emails`] order) in one
/// of the destination's tables (addresses, or look-alike skeletons); `None` where that table
/// does not have it.
pub(super) type EmailSlots = SmallVec<[Option<u32>; 2]>;

/// A source account's keys, and where the destination's tables hold them.
pub(super) struct Probe {
    pub(super) keys: AccountKeys,
    /// Each address's slot in the destination's address table.
    pub(super) email_slots: EmailSlots,
    /// Each address's slot in the destination's look-alike table.
    pub(super) skeleton_slots: EmailSlots,
    /// The username's slot in the destination's username look-alike table.
    pub(super) username_skeleton_slot: Option<u32>,
    /// The destination account with the same id (looked up when the ID method is on).
    pub(super) same_id: Option<u32>,
}

impl Probe {
    /// The keys of source account `i`, nothing looked up yet.
    fn keys(ctx: &Context<'_>, i: u32) -> Probe {
        let keys = AccountKeys::without_names(ctx.source.account(i), &ctx.src_rules);
        Probe {
            keys,
            email_slots: EmailSlots::new(),
            skeleton_slots: EmailSlots::new(),
            username_skeleton_slot: None,
            same_id: None,
        }
    }

    fn look_up_addresses(&mut self, ctx: &Context<'_>) {
        self.email_slots = self
            .keys
            .emails
            .iter()
            .map(|e| ctx.dst_index.by_email.slot(e.key.as_str()))
            .collect();
    }

    /// Fetches what the Email method reads of the account the first address leads to.
    fn fetch_email_target(&self, ctx: &Context<'_>) {
        let first = self.email_slots.iter().flatten().next();
        if let Some(&(index, _)) =
            first.and_then(|&slot| ctx.dst_index.by_email.hits(slot).as_slice().first())
        {
            fetch(ctx.destination.account(index).email_verified);
            fetch(ctx.dst_keys[index as usize].emails.len());
        }
    }

    fn look_up_skeletons(&mut self, ctx: &Context<'_>) {
        self.skeleton_slots = self
            .keys
            .emails
            .iter()
            .map(|e| ctx.dst_index.by_skeleton.slot(e.skeleton))
            .collect();
        if self.keys.username.is_some() {
            self.username_skeleton_slot = ctx
                .dst_index
                .by_username_skeleton
                .slot(self.keys.username_skeleton);
        }
    }

    fn look_up_id(&mut self, ctx: &Context<'_>, i: u32) {
        if ctx.policy.order.contains(&Method::Id) {
            self.same_id = ctx
                .dst_index
                .by_id
                .get(ctx.source.account(i).id.as_str())
                .copied();
        }
    }

    /// The probe of one account, step by step.
    fn alone(ctx: &Context<'_>, i: u32) -> Probe {
        let mut probe = Probe::keys(ctx, i);
        probe.look_up_addresses(ctx);
        probe.look_up_skeletons(ctx);
        probe.look_up_id(ctx, i);
        probe
    }
}

/// How many source accounts are probed together.
pub(super) const LOOKAHEAD: usize = 16;

/// The probes of the next few source accounts of one rayon job, in resolution order.
pub(super) struct Lookahead {
    /// How many accounts are probed together; 0 probes each alone.
    size: usize,
    /// The position, in resolution order, of `probes[0]`.
    start: usize,
    probes: Vec<Option<Probe>>,
}

impl Lookahead {
    pub(super) fn new(size: usize) -> Lookahead {
        Lookahead {
            size,
            start: 0,
            probes: Vec::with_capacity(size),
        }
    }

    /// The probe of the source account at `position` in `order`. Accounts are probed
    /// [`LOOKAHEAD`] at a time, one step after another: the look-ups of different accounts
    /// do not depend on each other, so the processor overlaps their cache misses instead of
    /// waiting out each in turn, as it must within one account's chain of look-ups.
    pub(super) fn probe(&mut self, ctx: &Context<'_>, order: &[u32], position: usize) -> Probe {
        if let Some(probe) = self
            .probes
            .get_mut(position.wrapping_sub(self.start))
            .and_then(Option::take)
        {
            return probe;
        }
        let ahead = &order[position..order.len().min(position + self.size)];
        self.start = position;
        self.probes.clear();
        self.probes
            .extend(ahead.iter().map(|&i| Some(Probe::keys(ctx, i))));
        for probe in self.probes.iter_mut().flatten() {
            probe.look_up_addresses(ctx);
        }
        for probe in self.probes.iter().flatten() {
            probe.fetch_email_target(ctx);
        }
        for probe in self.probes.iter_mut().flatten() {
            probe.look_up_skeletons(ctx);
        }
        for (probe, &i) in self.probes.iter_mut().flatten().zip(ahead) {
            probe.look_up_id(ctx, i);
        }
        self.probes
            .first_mut()
            .and_then(Option::take)
            .unwrap_or_else(|| Probe::alone(ctx, order[position]))
    }
}

/// Fetches the records the name tier reads of each candidate (`indices`, destination
/// accounts) before any is scored: a common name puts dozens of accounts, from anywhere in
/// memory, in one block.
pub(super) fn fetch_candidates(ctx: &Context<'_>, indices: impl Iterator<Item = u32> + Clone) {
    for index in indices.clone() {
        let dst_keys = &ctx.dst_keys[index as usize];
        fetch(dst_keys.emails.len());
        fetch(dst_keys.username.as_ref().map(|u| u.len()));
        fetch(ctx.destination.account(index).id.len());
    }
    for index in indices {
        fetch(
            ctx.dst_keys[index as usize]
                .emails
                .first()
                .map(|e| e.key.as_bytes()[0]),
        );
        fetch(ctx.destination.account(index).id.as_bytes().first());
    }
}
