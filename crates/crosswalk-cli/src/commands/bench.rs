//! `crosswalk bench`: the engine alone on generated data. Wall time per resolve and the
//! process's peak resident memory while resolving (Linux: VmHWM, reset before each run).
//! `crosswalk bench --webhooks N` measures webhook delivery instead (`bench_webhooks`).

use std::time::{Duration, Instant};

use anyhow::Result;
use crosswalk_core::resolve;

use crate::cli::BenchArgs;
use crate::progress;

pub(crate) fn bench(args: BenchArgs) -> Result<()> {
    if let Some(events) = args.webhooks {
        return super::bench_webhooks::bench(events, &args);
    }
    super::check_generated_accounts(args.accounts)?;
    let spinner = progress::spinner(format!(
        "generating {} × {} accounts",
        args.accounts, args.accounts
    ));
    let started = Instant::now();
    let generated = crosswalk_synth::generate(&crosswalk_synth::GenerateOptions {
        accounts: args.accounts,
        seed: args.seed,
        ..Default::default()
    });
    let mut policy = crosswalk_synth::policy_for(&generated);
    if args.without_name_tier {
        policy.order.retain(|m| *m != crosswalk_core::Method::Name);
    }
    // The engine's inputs are the two directories: the ground truth is dropped, and the
    // spare capacity the generator's vectors grew is returned, as a reader's would be.
    let crosswalk_synth::GeneratedPair {
        mut source,
        mut destination,
        truth,
    } = generated;
    drop(truth);
    for directory in [&mut source, &mut destination] {
        directory.accounts.shrink_to_fit();
        directory.groups.shrink_to_fit();
    }
    spinner.finish_and_clear();
    outln!(
        "generated {} source and {} destination accounts in {:.2?}",
        source.accounts.len(),
        destination.accounts.len(),
        started.elapsed()
    )?;
    let inputs = memory::resident();
    outln!("resident memory with inputs loaded: {}", mib(inputs))?;
    let mut times: Vec<Duration> = Vec::new();
    let mut peaks: Vec<u64> = Vec::new();
    for round in 1..=args.repeat.max(1) {
        memory::reset_peak();
        let started = Instant::now();
        let resolved = resolve(&source, &destination, &policy, &[]);
        let elapsed = started.elapsed();
        let peak = memory::peak();
        outln!(
            "round {round}: resolved {} identities in {:.3?}, peak resident {} ({} above the inputs)",
            resolved.mappings.len(),
            elapsed,
            mib(peak),
            mib(peak.saturating_sub(inputs))
        )?;
        drop(resolved);
        times.push(elapsed);
        peaks.push(peak);
    }
    times.sort();
    outln!(
        "engine: {} × {} accounts, {} threads: fastest {:.3?}, median {:.3?}, peak resident {}",
        source.accounts.len(),
        destination.accounts.len(),
        rayon::current_num_threads(),
        times[0],
        times[times.len() / 2],
        mib(peaks.iter().copied().max().unwrap_or(0))
    )?;
    Ok(())
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Peak and current resident set size from /proc (Linux); zero where unavailable.
mod memory {
    fn status_kib(field: &str) -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                status.lines().find(|l| l.starts_with(field)).and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|n| n.parse::<u64>().ok())
                })
            })
            .unwrap_or(0)
    }

    pub(super) fn resident() -> u64 {
        status_kib("VmRSS:") * 1024
    }

    pub(super) fn peak() -> u64 {
        status_kib("VmHWM:") * 1024
    }

    /// Writing 5 to clear_refs resets the peak to the current resident size.
    pub(super) fn reset_peak() {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
}
