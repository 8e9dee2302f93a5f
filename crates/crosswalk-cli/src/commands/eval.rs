//! `crosswalk eval`: the engine and the email-only rule scored against labelled data (files,
//! a generated pair, or FEBRL4). The scoring is `crosswalk_eval::compare`; this is glue.
//! Fails (exit 1) when the engine makes any false merge.

use std::path::Path;

use anyhow::{Context, Result, bail};
use crosswalk_core::normalize::DomainAliases;
use crosswalk_core::{Directory, Policy};
use crosswalk_eval::{Comparison, Truth};
use crosswalk_formats::ReadOptions;

use super::{check_policy, read_directories, read_exceptions};
use crate::cli::{EvalArgs, EvalFormat};
use crate::progress;

/// A labelled pair, the policy to run the engine with, and what to call them.
struct Labelled {
    dataset: String,
    source: Directory,
    destination: Directory,
    truth: Vec<Truth>,
    /// The line of each truth row in its file (empty when the truth is not from a file).
    truth_lines: Vec<u64>,
    policy: Policy,
    policy_origin: String,
}

pub(crate) fn eval(args: EvalArgs) -> Result<()> {
    let exceptions = read_exceptions(args.exceptions.as_deref())?;
    let given_policy = match &args.policy {
        Some(path) => Some((
            crosswalk_formats::read_policy_file(path)?,
            format!("the policy in {}", path.display()),
        )),
        None => None,
    };
    let mut labelled = if let (Some(source), Some(destination), Some(truth)) =
        (&args.source, &args.destination, &args.truth)
    {
        from_files(source, destination, truth, given_policy)?
    } else if let Some(accounts) = args.generate {
        generated(accounts, args.seed, given_policy)?
    } else if let Some(dir) = &args.febrl4 {
        febrl4(dir, given_policy)?
    } else {
        bail!(
            "say what to score: --source, --destination and --truth; --generate N; or --febrl4 DIR"
        );
    };
    check_policy(
        &labelled.policy,
        args.policy.as_deref(),
        &labelled.destination,
    )?;
    // A row whose records share an id, address, username or name is linkable whatever its label.
    crosswalk_eval::confirm_linkable(
        &labelled.source,
        &labelled.destination,
        &mut labelled.truth,
        &DomainAliases::default(),
    );

    if args.suggestions {
        return suggestions(&labelled, &exceptions, args.format);
    }
    let spinner = progress::spinner(format!(
        "resolving and scoring {} source identities, with the engine and the email-only rule",
        labelled.source.accounts.len() + labelled.source.groups.len()
    ));
    let comparison = crosswalk_eval::compare(
        labelled.dataset,
        &labelled.source,
        &labelled.destination,
        &labelled.truth,
        &labelled.policy,
        labelled.policy_origin,
        &exceptions,
    )
    .map_err(|error| match (&args.truth, error.truth_row()) {
        // A truth file's row is named by its file and line, as every file error is.
        (Some(path), Some(row)) => {
            let line = labelled
                .truth_lines
                .get(row - 1)
                .copied()
                .unwrap_or_default();
            anyhow::anyhow!(
                "{}:{line}: {}; the truth does not fit the directories",
                path.display(),
                error.problem()
            )
        }
        (Some(path), None) => anyhow::anyhow!(
            "the truth {} does not fit the directories: {error}",
            path.display()
        ),
        (None, _) => anyhow::anyhow!("the truth does not fit the directories: {error}"),
    })?;
    spinner.finish_and_clear();

    print(&comparison, args.format)?;
    if !comparison.passed() {
        bail!(
            "the engine made {} false merge{} (linked someone to another person's account); they are listed above",
            comparison.engine_false_merges,
            if comparison.engine_false_merges == 1 {
                ""
            } else {
                "s"
            }
        );
    }
    Ok(())
}

/// `--suggestions`: what accepting every review suggestion would do at each threshold.
fn suggestions(
    labelled: &Labelled,
    exceptions: &[crosswalk_core::ExceptionRule],
    format: EvalFormat,
) -> Result<()> {
    let spinner = progress::spinner("resolving and scoring the review suggestions");
    let resolved = crosswalk_core::resolve(
        &labelled.source,
        &labelled.destination,
        &labelled.policy,
        exceptions,
    );
    let tallies = crosswalk_eval::suggestion_tradeoff(
        &labelled.source,
        &labelled.destination,
        &labelled.truth,
        &resolved,
        &crosswalk_eval::THRESHOLDS,
    );
    spinner.finish_and_clear();
    let report = crosswalk_eval::SuggestionReport {
        dataset: format!("{} ({})", labelled.dataset, labelled.policy_origin),
        default_threshold: crosswalk_core::SUGGESTION_THRESHOLD.thousandths(),
        tallies,
    };
    match format {
        EvalFormat::Json => outln!("{}", serde_json::to_string_pretty(&report)?)?,
        EvalFormat::Text | EvalFormat::Markdown => out!("{report}")?,
    }
    Ok(())
}

fn print(comparison: &Comparison, format: EvalFormat) -> Result<()> {
    match format {
        EvalFormat::Text => out!("{comparison}")?,
        EvalFormat::Json => outln!("{}", serde_json::to_string_pretty(comparison)?)?,
        EvalFormat::Markdown => {
            outln!("{}  ", comparison.dataset)?;
            outln!("engine policy: {}", comparison.policy_origin)?;
            outln!()?;
            out!("{}", comparison.to_markdown())?;
            outln!()?;
            for scored in &comparison.results {
                outln!("- {}: {}", scored.rule, scored.description)?;
            }
        }
    }
    Ok(())
}

fn from_files(
    source_path: &Path,
    destination_path: &Path,
    truth_path: &Path,
    policy: Option<(Policy, String)>,
) -> Result<Labelled> {
    let (policy, policy_origin) =
        policy.unwrap_or_else(|| (Policy::default(), "the default policy".into()));
    let (source, destination) =
        read_directories(source_path, destination_path, ReadOptions::default())?;
    let (source, destination) = (source.directory, destination.directory);
    let file = std::fs::File::open(truth_path)
        .with_context(|| format!("could not open the truth file {}", truth_path.display()))?;
    let rows = crosswalk_synth::read_truth_csv_lines(std::io::BufReader::new(file))
        .map_err(|error| anyhow::anyhow!("{}", error.located(&truth_path.display().to_string())))?;
    let (truth_lines, rows): (Vec<u64>, Vec<_>) = rows.into_iter().unzip();
    let dataset = format!(
        "labelled pair: source {} ({} accounts, {} groups), destination {} ({} accounts, {} groups), truth {}",
        source_path.display(),
        source.accounts.len(),
        source.groups.len(),
        destination_path.display(),
        destination.accounts.len(),
        destination.groups.len(),
        truth_path.display()
    );
    Ok(Labelled {
        dataset,
        source,
        destination,
        truth: rows.into_iter().map(Truth::from).collect(),
        truth_lines,
        policy,
        policy_origin,
    })
}

fn generated(accounts: usize, seed: u64, policy: Option<(Policy, String)>) -> Result<Labelled> {
    super::check_generated_accounts(accounts)?;
    let spinner = progress::spinner(format!(
        "generating {accounts} source accounts (seed {seed})"
    ));
    let pair = crosswalk_synth::generate(&crosswalk_synth::GenerateOptions::new(accounts, seed));
    spinner.finish_and_clear();
    let (policy, policy_origin) = policy.unwrap_or_else(|| {
        (
            crosswalk_synth::policy_for(&pair),
            "the generator's policy (the policy.toml `crosswalk generate` writes: domain alias, organisation domain, external domain; provision off)".into(),
        )
    });
    let dataset = format!(
        "generated pair, seed {seed}: {} source accounts and {} groups, {} destination accounts and {} groups (`crosswalk generate -n {accounts} --seed {seed}` writes the same data)",
        pair.source.accounts.len(),
        pair.source.groups.len(),
        pair.destination.accounts.len(),
        pair.destination.groups.len()
    );
    let labelled = crosswalk_eval::LabelledPair::from(pair);
    Ok(Labelled {
        dataset,
        source: labelled.source,
        destination: labelled.destination,
        truth: labelled.truth,
        truth_lines: Vec::new(),
        policy,
        policy_origin,
    })
}

fn febrl4(dir: &Path, policy: Option<(Policy, String)>) -> Result<Labelled> {
    let spinner = progress::spinner(format!("reading FEBRL4 from {}", dir.display()));
    let pair = crosswalk_eval::load_febrl4(dir)
        .with_context(|| format!("could not load FEBRL4 from {}", dir.display()))?;
    spinner.finish_and_clear();
    let (policy, policy_origin) = policy.unwrap_or_else(|| {
        let mut policy = Policy::default();
        policy.name.organisation_domains = vec![crosswalk_eval::FEBRL4_ORG_DOMAIN.into()];
        (
            policy,
            format!(
                "the default policy with name.organisation_domains = [\"{}\"] (the destination's domain)",
                crosswalk_eval::FEBRL4_ORG_DOMAIN
            ),
        )
    });
    let dataset = format!(
        "FEBRL4 ({}): {} source and {} destination people, one true link each; names with typos, no addresses",
        dir.display(),
        pair.source.accounts.len(),
        pair.destination.accounts.len()
    );
    Ok(Labelled {
        dataset,
        source: pair.source,
        destination: pair.destination,
        truth: pair.truth,
        truth_lines: Vec::new(),
        policy,
        policy_origin,
    })
}
