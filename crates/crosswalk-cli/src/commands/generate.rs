//! `crosswalk generate`: a synthetic directory pair, its ground truth and a matching policy.

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::{Context, Result};

use crosswalk_core::IdentityKind;
use crosswalk_formats::ldif::entry_uuid_of;

use crate::cli::{DirectoryFileFormat, GenerateArgs};
use crate::progress;

pub(crate) fn generate(args: GenerateArgs) -> Result<()> {
    super::check_generated_accounts(args.accounts)?;
    let spinner = progress::spinner(format!("generating {} source accounts", args.accounts));
    let generated = crosswalk_synth::generate(&crosswalk_synth::GenerateOptions {
        accounts: args.accounts,
        seed: args.seed,
        ..Default::default()
    });
    spinner.finish_and_clear();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("could not create {}", args.out.display()))?;
    let extension = match args.format {
        DirectoryFileFormat::Csv | DirectoryFileFormat::EntraCsv => "csv",
        DirectoryFileFormat::Scim => "jsonl",
        DirectoryFileFormat::Ldif => "ldif",
    };
    for (name, directory) in [
        ("source", &generated.source),
        ("destination", &generated.destination),
    ] {
        let path = args.out.join(format!("{name}.{extension}"));
        let spinner = progress::spinner(format!("writing {}", path.display()));
        let file = BufWriter::with_capacity(1 << 20, create(&path)?);
        match args.format {
            DirectoryFileFormat::Csv => crosswalk_formats::write_directory_csv(directory, file),
            DirectoryFileFormat::Scim => crosswalk_formats::write_scim_jsonl(directory, file),
            DirectoryFileFormat::Ldif => {
                crosswalk_formats::write_ldif(directory, LDIF_SUFFIX, file)
            }
            DirectoryFileFormat::EntraCsv => {
                crosswalk_formats::exports::write_entra_csv(directory, ENTRA_UPN_DOMAIN, file)
            }
        }
        .with_context(|| format!("could not write {}", path.display()))?;
        spinner.finish_and_clear();
    }
    // The truth names identities as the files do: LDIF keys them by entryUUID, and the
    // Entra download holds no groups.
    let mut truth = generated.truth;
    match args.format {
        DirectoryFileFormat::Ldif => {
            for row in &mut truth {
                row.source_id = entry_uuid_of(row.kind, &row.source_id);
                if let Some(id) = &mut row.destination_id {
                    *id = entry_uuid_of(row.kind, id);
                }
            }
        }
        DirectoryFileFormat::EntraCsv => truth.retain(|row| row.kind == IdentityKind::Account),
        DirectoryFileFormat::Csv | DirectoryFileFormat::Scim => {}
    }
    let truth_path = args.out.join("truth.csv");
    crosswalk_synth::write_truth_csv(&truth, BufWriter::new(create(&truth_path)?))
        .with_context(|| format!("could not write {}", truth_path.display()))?;
    if let Some(count) = args.items {
        let items_path = args.out.join("items.csv");
        let spinner = progress::spinner(format!("writing {}", items_path.display()));
        crosswalk_synth::write_items_csv(
            &generated.source,
            count,
            args.seed,
            BufWriter::with_capacity(1 << 20, create(&items_path)?),
        )
        .with_context(|| format!("could not write {}", items_path.display()))?;
        spinner.finish_and_clear();
    }
    let policy_path = args.out.join("policy.toml");
    let mut policy_file = create(&policy_path)?;
    policy_file.write_all(crosswalk_synth::POLICY_TOML.as_bytes())?;
    let groups = |directory: &crosswalk_core::Directory| match args.format {
        DirectoryFileFormat::EntraCsv => 0,
        _ => directory.groups.len(),
    };
    outln!(
        "wrote {} source and {} destination accounts, {} + {} groups, to {}",
        generated.source.accounts.len(),
        generated.destination.accounts.len(),
        groups(&generated.source),
        groups(&generated.destination),
        args.out.display()
    )?;
    outln!(
        "next: crosswalk run --source {0}/source.{1} --destination {0}/destination.{1} --policy {0}/policy.toml",
        args.out.display(),
        extension
    )?;
    Ok(())
}

/// The base of the LDIF `--format ldif` writes (the LDAP tests' and benchmarks' slapd suffix).
const LDIF_SUFFIX: &str = "dc=example,dc=com";
/// The tenant domain of generated Entra user principal names that are no address.
const ENTRA_UPN_DOMAIN: &str = "acme.onmicrosoft.com";

fn create(path: &std::path::Path) -> Result<File> {
    File::create(path).with_context(|| format!("could not create {}", path.display()))
}
