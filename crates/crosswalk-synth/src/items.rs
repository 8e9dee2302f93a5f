//! Content references for a generated source: the items CSV `crosswalk check --items` reads
//! (`container,item,role,type,identity`), for the planning benchmark (1M accounts, 5M
//! references) and for demos of the user scope.

use std::io::Write;

use crosswalk_core::Directory;

use crate::rng::Rand;

const ROLES: [&str; 6] = [
    "creator",
    "modifier",
    "owner",
    "commenter",
    "mentioned",
    "assignee",
];
/// One reference in this many names an account the source lacks (a deleted user).
const ABSENT_EVERY: usize = 500;

/// Writes `count` references to `source`'s identities, streamed: containers `SP1`, `SP2`...
/// (one per 200 accounts), each with a permission for a group (when there are groups),
/// the rest content references with a role, spread over the accounts, a few to accounts the
/// source lacks. The same seed writes the same file. Returns the number of rows written.
pub fn write_items_csv(
    source: &Directory,
    count: usize,
    seed: u64,
    output: impl Write,
) -> std::io::Result<usize> {
    let mut rand = Rand::new(seed ^ 0x17e5);
    let mut writer = csv::WriterBuilder::new().from_writer(output);
    writer.write_record(["container", "item", "role", "type", "identity"])?;
    let containers = (source.accounts.len() / 200).max(1);
    let mut written = 0;
    if !source.groups.is_empty() {
        for container in 1..=containers.min(count) {
            let group = &source.groups[rand.below(source.groups.len())];
            writer.write_record([
                format!("SP{container}").as_str(),
                "",
                "permission",
                "group",
                &group.id,
            ])?;
            written += 1;
        }
    }
    while written < count {
        let container = 1 + rand.below(containers);
        let item = format!("SP{container}-{}", rand.below(1000));
        let role = *rand.pick(&ROLES);
        let identity = if source.accounts.is_empty() || rand.below(ABSENT_EVERY) == 0 {
            format!("deleted-{}", rand.below(10_000))
        } else {
            source.accounts[rand.below(source.accounts.len())]
                .id
                .to_string()
        };
        writer.write_record([
            format!("SP{container}").as_str(),
            &item,
            role,
            "account",
            &identity,
        ])?;
        written += 1;
    }
    writer.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_items_read_back_and_refer_to_the_source_or_to_deleted_accounts() {
        let generated = crate::generate(&crate::GenerateOptions {
            accounts: 1000,
            seed: 7,
            ..Default::default()
        });
        let mut out = Vec::new();
        assert_eq!(
            write_items_csv(&generated.source, 5000, 7, &mut out).unwrap(),
            5000
        );
        let mut again = Vec::new();
        write_items_csv(&generated.source, 5000, 7, &mut again).unwrap();
        assert_eq!(out, again, "the same seed writes the same file");
        let references = crosswalk_formats::read_items_csv("items.csv", out.as_slice()).unwrap();
        assert_eq!(references.len(), 5000);
        let ids: std::collections::HashSet<&str> = generated
            .source
            .accounts
            .iter()
            .map(|a| a.id.as_str())
            .chain(generated.source.groups.iter().map(|g| g.id.as_str()))
            .collect();
        assert!(
            references
                .iter()
                .all(|r| ids.contains(r.identity.as_str()) || r.identity.starts_with("deleted-"))
        );
        assert!(
            references
                .iter()
                .any(|r| r.identity.starts_with("deleted-"))
        );
        assert!(
            references.iter().any(|r| r.item.is_none()),
            "containers have group permissions"
        );
    }
}
