//! Times `generate` and reports the process's peak resident memory.
//!
//! `cargo run --release -p crosswalk-synth --example gen_timing [accounts] [seed]`
//! (default 1,000,000 accounts, seed 1).

use std::time::Instant;

use crosswalk_synth::{GenerateOptions, generate};

fn main() {
    let mut args = std::env::args().skip(1);
    let accounts: usize = args
        .next()
        .map_or(1_000_000, |a| a.replace('_', "").parse().expect("accounts"));
    let seed: u64 = args.next().map_or(1, |a| a.parse().expect("seed"));
    let started = Instant::now();
    let pair = generate(&GenerateOptions {
        accounts,
        seed,
        ..Default::default()
    });
    let elapsed = started.elapsed();
    let memberships =
        |d: &crosswalk_core::Directory| d.groups.iter().map(|g| g.members.len()).sum::<usize>();
    println!(
        "generated {} source / {} destination accounts, {} / {} groups ({} / {} memberships), {} truth rows in {:.2?}",
        pair.source.accounts.len(),
        pair.destination.accounts.len(),
        pair.source.groups.len(),
        pair.destination.groups.len(),
        memberships(&pair.source),
        memberships(&pair.destination),
        pair.truth.len(),
        elapsed
    );
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        for line in status
            .lines()
            .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
        {
            println!("{line}");
        }
    }
    let started = Instant::now();
    drop(pair);
    println!("dropped in {:.2?}", started.elapsed());
}
