//! Prints how the engine and the email-only baseline score on FEBRL4, as `EvalReport`
//! tables. `crosswalk eval --febrl4 testdata/febrl4` prints the same side by side (and is
//! what BENCHMARKS.md records).
//!
//! ```sh
//! cargo run --release -p crosswalk-eval --example febrl_report            # text tables
//! cargo run --release -p crosswalk-eval --example febrl_report -- --json  # JSON
//! cargo run --release -p crosswalk-eval --example febrl_report -- DIR     # another copy
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crosswalk_core::{Policy, resolve};
use crosswalk_eval::{EvalReport, FEBRL4_ORG_DOMAIN, email_only_baseline, evaluate, load_febrl4};

fn main() -> ExitCode {
    let mut json = false;
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/febrl4");
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--json" => json = true,
            other => dir = PathBuf::from(other),
        }
    }
    let pair = match load_febrl4(&dir) {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };

    let mut reports: Vec<EvalReport> = Vec::new();
    for provision in [false, true] {
        let mut policy = Policy::default();
        policy.name.organisation_domains = vec![FEBRL4_ORG_DOMAIN.into()];
        policy.fallback.provision = provision;
        let started = Instant::now();
        let resolved = resolve(&pair.source, &pair.destination, &policy, &[]);
        let elapsed = started.elapsed();
        let report = evaluate(&pair.source, &pair.destination, &pair.truth, &resolved)
            .expect("truth fits the directories")
            .with_label(format!(
                "Crosswalk engine, default order, name.organisation_domains = [\"{FEBRL4_ORG_DOMAIN}\"], fallback.provision = {provision} ({:.1} ms)",
                elapsed.as_secs_f64() * 1000.0
            ));
        reports.push(report);
    }
    let resolved = email_only_baseline(&pair.source, &pair.destination);
    reports.push(
        evaluate(&pair.source, &pair.destination, &pair.truth, &resolved)
            .expect("truth fits the directories")
            .with_label("Email-only baseline: same email (ASCII lowercase), otherwise create"),
    );

    if json {
        match serde_json::to_string_pretty(&reports) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        println!(
            "FEBRL4 ({}): {} source people, {} destination people, {} true links\n",
            dir.display(),
            pair.source.accounts.len(),
            pair.destination.accounts.len(),
            pair.truth
                .iter()
                .filter(|t| t.destination_id.is_some())
                .count()
        );
        for report in &reports {
            println!("{report}");
        }
    }
    if reports.iter().take(2).any(|r| r.total.false_merge > 0) {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
