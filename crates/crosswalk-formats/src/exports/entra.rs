//! Writing the Entra ID "Download users" CSV, for generated benchmark data
//! (`crosswalk generate --format entra-csv`); reading it is [`read_export_csv`](super::read_export_csv)
//! with the `entra` columns.

use std::io::Write;

use crosswalk_core::Directory;

/// The columns of the admin center's *Download users* file, in its order
/// (MicrosoftDocs/entra-docs `docs/identity/users/users-bulk-download.md`).
pub const ENTRA_DOWNLOAD_COLUMNS: [&str; 25] = [
    "userPrincipalName",
    "displayName",
    "surname",
    "mail",
    "givenName",
    "objectId",
    "userType",
    "jobTitle",
    "department",
    "accountEnabled",
    "usageLocation",
    "streetAddress",
    "state",
    "country",
    "physicalDeliveryOfficeName",
    "city",
    "postalCode",
    "telephoneNumber",
    "mobile",
    "authenticationAlternativePhoneNumber",
    "authenticationEmail",
    "alternateEmailAddress",
    "ageGroup",
    "consentProvidedForMinor",
    "legalAgeGroupClassification",
];

/// Writes a directory's accounts as Entra's *Download users* CSV (UTF-8 with a byte order
/// mark, as the portal saves it): `objectId` the id, `userPrincipalName` the username when it
/// is an address, else the username (or the id) at `upn_domain`, `mail`, the names,
/// `accountEnabled` `True`/`False`, `userType` `Member`, the other columns empty. The download
/// has no groups and no `proxyAddresses`, so groups and aliases are not written.
pub fn write_entra_csv(
    directory: &Directory,
    upn_domain: &str,
    output: impl Write,
) -> std::io::Result<()> {
    let mut output = std::io::BufWriter::with_capacity(1 << 16, output);
    output.write_all("\u{feff}".as_bytes())?;
    let mut writer = csv::WriterBuilder::new().from_writer(output);
    writer.write_record(ENTRA_DOWNLOAD_COLUMNS)?;
    let mut upn = String::new();
    for account in &directory.accounts {
        upn.clear();
        match account.username.as_deref() {
            Some(username) if username.contains('@') => upn.push_str(username),
            username => {
                upn.push_str(username.unwrap_or(&account.id));
                upn.push('@');
                upn.push_str(upn_domain);
            }
        }
        let mut row = [""; 25];
        row[0] = upn.as_str();
        row[1] = text(&account.display_name);
        row[2] = text(&account.family_name);
        row[3] = text(&account.email);
        row[4] = text(&account.given_name);
        row[5] = account.id.as_str();
        row[6] = "Member";
        row[9] = if account.active { "True" } else { "False" };
        writer.write_record(row)?;
    }
    writer.flush()
}

fn text(value: &Option<crosswalk_core::CompactString>) -> &str {
    value.as_deref().unwrap_or("")
}
