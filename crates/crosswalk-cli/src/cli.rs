//! Command-line definitions. The help text is the manual: it says what each command does,
//! what it reads and writes, and what to run next.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "crosswalk",
    version,
    about = "Decide, for every user and group of a source platform, which destination identity it becomes, and say why.",
    long_about = "Crosswalk resolves a source directory (the users and groups of the platform you migrate from) \
against a destination directory (the platform you migrate to) through an explicit, ordered chain: \
Exception, ID, Email, Username, Name, then the fallbacks External, Provision, Passthrough, Default, \
or Unresolved. It never guesses when two candidates fit and never links a look-alike address. \
Results are kept in a store (an SQLite file), per migration scope (one source instance paired with \
one destination instance): a run writes only what changed, each change a revision, and the scope's \
current mappings are served as the User Mappings report, a mapping's history and a change feed.",
    after_help = "Start with `crosswalk demo`, then `crosswalk report --job demo`.\n\
Typical use:\n  crosswalk run --source server.json --destination cloud.csv --policy policy.toml --job wave-1\n  \
crosswalk report --job wave-1 --resolution unresolved > to-review.csv\n\
Before a run, `crosswalk transforms preview` shows what the policy's transforms change; \
`crosswalk eval --generate 10000` measures accuracy on labelled data."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Where the store is: offered only by the commands that open it, after the command's name.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// The store file (SQLite). Created on first use.
    #[arg(long, env = "CROSSWALK_STORE", default_value = DEFAULT_STORE, value_name = "FILE")]
    pub(crate) store: PathBuf,
    /// A database server instead of a file: postgres://user@host:port/database (or
    /// sqlite://FILE). Takes the place of --store.
    #[arg(
        long,
        env = "CROSSWALK_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub(crate) database: Option<String>,
}

pub(crate) const DEFAULT_STORE: &str = "crosswalk.sqlite";

impl StoreArgs {
    /// The database these arguments name: --database's URL when given, else the --store file.
    pub(crate) fn database(&self) -> Result<crosswalk_app::Database, crosswalk_app::AppError> {
        match &self.database {
            Some(url) => crosswalk_app::Database::parse_url(url),
            None => Ok(crosswalk_app::Database::Sqlite(self.store.clone())),
        }
    }

    /// What a `next:` hint adds so that the command it names opens this same store: nothing
    /// for the default, else ` --store FILE` (quoted for a shell where needed).
    pub(crate) fn hint(store: &std::path::Path) -> String {
        if store == std::path::Path::new(DEFAULT_STORE) {
            return String::new();
        }
        format!(" --store {}", shell_word(&store.display().to_string()))
    }
}

/// Which scope a command works in.
#[derive(Debug, Args)]
pub(crate) struct ScopeArg {
    /// The migration scope (one source instance paired with one destination instance).
    /// Without it, the scope named `default`, which the first run creates.
    #[arg(long, value_name = "SCOPE", default_value = crosswalk_app::DEFAULT_SCOPE)]
    pub(crate) scope: String,
}

/// `text` as one word a POSIX shell reads back unchanged.
pub(crate) fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// The commands that open a store, which alone take `--store`.
pub(crate) const STORE_COMMANDS: [&str; 20] = [
    "run",
    "plan",
    "report",
    "jobs",
    "explain",
    "demo",
    "scope",
    "history",
    "changes",
    "purge",
    "serve",
    "token",
    "items",
    "reattribution",
    "review",
    "resolve",
    "export",
    "exceptions",
    "scim",
    "webhook",
];

/// The message for `--store` written before the command's name (`crosswalk --store s.sqlite
/// demo`, where it used to be accepted), or `None` when it is not there. Clap alone would say
/// only "unexpected argument".
pub(crate) fn misplaced_store_option(args: &[std::ffi::OsString]) -> Option<String> {
    let mut store = None;
    let mut rest = args.iter().skip(1).map(|arg| arg.to_string_lossy());
    let command = loop {
        let arg = rest.next()?;
        if arg == "--store" {
            store = Some(rest.next()?.into_owned());
        } else if let Some(value) = arg.strip_prefix("--store=") {
            store = Some(value.to_string());
        } else if !arg.starts_with('-') {
            break arg;
        }
    };
    let store = store?;
    Some(if STORE_COMMANDS.contains(&&*command) {
        format!("--store goes after the command's name: crosswalk {command} --store {store} ...")
    } else {
        let (last, others) = STORE_COMMANDS.split_last().expect("store commands");
        format!(
            "`crosswalk {command}` opens no store; leave out --store ({} and {last} take it, after their name)",
            others.join(", ")
        )
    })
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Resolve a source directory against a destination directory and record what changed in the scope.
    #[command(
        long_about = "Reads the two directories, the policy and the exceptions, resolves every source \
identity, and reconciles the result with the scope's current mappings: only what differs is written \
(new mappings, changed ones, and mappings whose source identity is gone, marked removed), each \
change a revision. Running the same inputs again writes nothing and says \"0 changed\". Every job \
has a transfer id; any of the scope's transfer ids reads all of the scope's mappings.\n\n\
Without --scope the run goes to the scope named `default`, created by its first run. Any other scope \
must exist (`crosswalk scope create`), so that a mistyped name cannot start an empty scope. With \
--exceptions, the file's rules become the scope's (a new version of them when they differ); without \
it, the scope's rules as they stand apply.",
        after_help = "Examples:\n  \
crosswalk run -s server.json -d cloud.csv -p policy.toml -e exceptions.csv --job wave-1\n  \
crosswalk run --scope acme -s server.json -d cloud.csv --job wave-2\n\n\
Directory files are SCIM 2.0 JSON (.json, .jsonl), Crosswalk CSV (.csv) or LDIF (.ldif: slapcat, \
ldapsearch, ldifde), a platform's export (Entra, Get-ADUser, Google, Atlassian, Jira cwd_* tables, \
Slack, GitHub CSV; Okta API JSON: users.json or a folder with users.json and groups.json); see docs/formats.md. \
Nothing is stored unless both directories, the policy and the exceptions are valid.\n\n\
The source may be a live LDAP server (OpenLDAP, Active Directory):\n  \
CROSSWALK_LDAP_BIND_DN='cn=reader,dc=example,dc=com' CROSSWALK_LDAP_PASSWORD=... \\\n    \
crosswalk run -s ldap://dc01.example.com:389 --ldap-starttls --ldap-base 'dc=example,dc=com' -d cloud.csv\n\
The bind DN and password come from those variables or from --ldap-credentials FILE (DN on the first \
line, password on the second), never from the command line; without either the bind is anonymous."
    )]
    Run(RunArgs),
    /// Pre-flight checks: what must be fixed before a job moves anything, with fixes to choose and import.
    Check(crate::commands::check::CheckArgs),
    /// Dry run: what `run` with the same inputs would add, change and remove in the scope, writing nothing.
    Plan(crate::commands::plan::PlanArgs),
    /// Print the User Mappings report (12 columns): the scope's current mappings, or one job's.
    #[command(after_help = "Examples:\n  \
crosswalk report                                   # the default scope's current mappings\n  \
crosswalk report --scope acme --job wave-1 -r unresolved   # what wave-1 resolved, to review\n  \
crosswalk report --flagged --format json -o flagged.json\n  \
crosswalk report --scope acme --search smith --sort source_display_name --limit 50\n  \
crosswalk report --scope acme --suggested --counts   # how many, per resolution\n  \
crosswalk report --transfer 0b6e7f3c-...           # a transfer id reads its whole scope")]
    Report(ReportArgs),
    /// List a scope's jobs (with their transfer ids) and runs (with what each changed).
    #[command(after_help = "Example:\n  crosswalk jobs --scope acme")]
    Jobs(JobsArgs),
    /// Explain one mapping: evidence, candidates, flags, and the run that last changed it.
    #[command(after_help = "Examples:\n  \
crosswalk explain JIRAUSER10042                    # by source id, in the default scope\n  \
crosswalk explain --scope acme jdoe                # or by username or address\n  \
crosswalk explain --scope acme --type group G1")]
    Explain(ExplainArgs),
    /// Create, list and show migration scopes, and set how long removed mappings are kept.
    #[command(subcommand)]
    Scope(ScopeCommand),
    /// Serve the mapping API (native and Atlassian-compatible) and the web UI over HTTP.
    #[command(after_help = "Examples:\n  \
crosswalk serve --listen 127.0.0.1:8080 --store crosswalk.sqlite\n  \
crosswalk token create --scope acme --role reader   # a token for the API\n\n\
The OpenAPI document is at /api/openapi.json; /health and /ready need no token. The web UI is \
at /ui/: sign in there with a scope token (or the instance admin token).")]
    Serve(crate::commands::ServeArgs),
    /// Make, list and revoke the mapping API's bearer tokens.
    #[command(subcommand)]
    Token(crate::commands::TokenCommand),
    /// Webhooks: subscribe URLs to a scope's events (signed, retried, in order), list and
    /// pause them, see their deliveries, redeliver. `crosswalk serve` delivers.
    #[command(subcommand)]
    Webhook(crate::commands::WebhookCommand),
    /// Every revision of one mapping: what it was, what it became, which run or caller, when, who, why.
    #[command(
        long_about = "Prints one mapping's history, oldest first: each revision's old and new value, the run \
(job and run number) or caller that made it, when, who, and why (resolution, exception, manual, \
removal, purge). A removed mapping keeps its history. In identity:user the key may be the source id, \
the username, any address, or a platform-prefixed form (jira.userkey/..., jira.username/..., \
confluence.userkey/..., email/...) as the scope's source platform uses them.",
        after_help = "Examples:\n  \
crosswalk history JIRAUSER10042\n  \
crosswalk history --scope acme jira.username/jdoe\n  \
crosswalk history --scope acme --namespace identity:group G1"
    )]
    History(HistoryArgs),
    /// The scope's change feed: revisions after a cursor, in commit order.
    #[command(
        long_about = "Lists the scope's revisions after --since (a cursor this command printed; none: from \
the first), in the order they were committed, and ends with the cursor to pass next time. Tools that \
already migrated content read it to re-attribute what changed since.",
        after_help = "Examples:\n  \
crosswalk changes --scope acme                     # everything, from the start\n  \
crosswalk changes --scope acme --since r1042 --format jsonl"
    )]
    Changes(ChangesArgs),
    /// Import the content's item references, and list the items a mapping affects.
    Items(crate::commands::items::ItemsArgs),
    /// The items to re-attribute because a mapping's destination changed: item, role, old and new destination.
    Reattribution(crate::commands::items::ReattributionArgs),
    /// Remove for good the mappings marked removed longer ago than their namespace's retention.
    #[command(
        long_about = "Nothing expires on its own: a mapping whose source identity is gone is marked removed \
and kept, with its history, until a purge removes it. A purge applies the namespace's retention \
(`crosswalk scope retention`; the default keeps everything forever), lists each mapping it removes, \
and records a revision for each. --dry-run lists what it would remove and writes nothing.",
        after_help = "Examples:\n  \
crosswalk scope retention --scope acme identity:user 90\n  \
crosswalk purge --scope acme --namespace identity:user --dry-run\n  \
crosswalk purge --scope acme --namespace identity:user"
    )]
    Purge(PurgeArgs),
    /// Review suggestions: list them, accept or reject them one by one or in bulk; search destination identities.
    #[command(subcommand)]
    Review(ReviewCommand),
    /// The SCIM service's held group conflicts (serve's /scim/v2): list them, accept or reject each.
    #[command(subcommand)]
    Scim(crate::commands::ScimCommand),
    /// Decide one mapping: link it to a destination identity, or mark it to be provisioned or as a former user.
    #[command(
        long_about = "Resolves one identity mapping as you decide: --to a destination identity (a candidate \
or any other; by its id, email:, username:, or a bare value), --provision (create it on the \
destination) or --former-user (migrate its content under its name, with no live account). The \
decision is stored as an exception rule of the scope (a new version, with who and when) and applied \
at once: the mapping's job is resolved again from what its latest run stored, so the mapping changes \
now and its history shows the revision, made by you. A later `crosswalk run` with an --exceptions \
file replaces the scope's rules, decisions included: run without --exceptions to keep them.",
        after_help = "Examples:\n  \
crosswalk resolve --scope acme JIRAUSER10042 --to 5b10ac8d82e05b22cc7d4ef5\n  \
crosswalk resolve --scope acme jdoe --to email:john.doe@acme.com\n  \
crosswalk resolve --scope acme JIRAUSER10077 --former-user\n  \
crosswalk resolve --scope acme --kind group G7 --provision\n\n\
`crosswalk review destinations --scope acme --search doe` finds a destination account; \
`crosswalk history --scope acme KEY` shows the decision in the mapping's history."
    )]
    Resolve(ResolveArgs),
    /// Write a realistic synthetic directory pair (with its ground truth) for demos and benchmarks.
    Generate(GenerateArgs),
    /// Run the whole path on bundled sample data, print the report summary, then serve the web UI.
    #[command(
        long_about = "Resolves the bundled sample migration (a Jira Server directory against an Atlassian \
Cloud directory, with a policy and exception rules) into the store as job \"demo\" of scope \"default\", \
prints the summary, then serves the web UI on 127.0.0.1 and prints its address and a new admin token \
of the scope to sign in with. Ctrl-C stops the server; --serve-for stops it after a while, --no-serve \
(or CROSSWALK_DEMO_NO_SERVE=1) skips it.",
        after_help = "Examples:\n  \
crosswalk demo                              # run, then serve the UI on a free port\n  \
crosswalk demo --listen 127.0.0.1:8080      # on a port of your choice\n  \
crosswalk demo --no-serve --store demo.sqlite"
    )]
    Demo(crate::commands::DemoArgs),
    /// Measure the engine alone on generated data (wall time and peak memory), or webhook delivery (--webhooks).
    Bench(BenchArgs),
    /// Work with the policy's transforms (rewrites applied before matching).
    #[command(subcommand)]
    Transforms(TransformsCommand),
    /// Score the engine against labelled data, next to the email-only rule; fails on any false merge.
    #[command(
        long_about = "Runs the engine on a directory pair whose right answers are known, and the naive \
email-only rule (link by case-insensitive email, otherwise create) on the same data, and prints, per \
category of noise, how many identities each got right, how many it linked to someone else's account \
(false merges), how many it would give a second account (duplicates), and how many it left for \
review although a match existed (missed). People whom nothing in the data can link (no shared id, \
address, username or name) are counted apart as unlinkable. The engine is scored twice unless the \
policy already creates, provisions or passes through: with the policy as given, and with \
fallback.provision = true, so that the duplicates a migration would create are measured too.\n\n\
The labelled data is one of: files (--source, --destination and --truth, as `crosswalk generate` \
writes them), a pair generated in memory (--generate N), or the FEBRL4 set (--febrl4 DIR). \
Nothing is stored.\n\n\
Exit status: 0 when the engine made no false merge; 1 when it made any (they are listed), or when \
an input is invalid. CI can use it as a gate.",
        after_help = "Examples:\n  \
crosswalk eval --generate 10000 --seed 42                 # a generated pair, its policy\n  \
crosswalk eval --febrl4 testdata/febrl4                   # 5,000 people, names with typos\n  \
crosswalk generate -n 5000 -o gen && crosswalk eval -s gen/source.csv -d gen/destination.csv \\\n      \
--truth gen/truth.csv -p gen/policy.toml\n  \
crosswalk eval --generate 100000 --format markdown         # the table BENCHMARKS.md records\n\n\
The truth file is CSV `type,source_id,destination_id,category,linkable` (what `crosswalk generate` \
writes): an empty destination_id means the identity has none on the destination. `linkable` is \
checked against the data: a row whose records share an id, address, username or name is linkable \
whatever the column says."
    )]
    Eval(EvalArgs),
    // Peer tools' mapping files and platform directory exports (issue 20).
    /// Write the scope's decisions as another migration tool's user mapping file (SPMT, ShareGate, Mover, JCMA...).
    Export(crate::commands::peers::ExportArgs),
    /// Import another migration tool's mapping file as the scope's exception rules.
    #[command(subcommand)]
    Exceptions(crate::commands::peers::ExceptionsCommand),
    /// Convert a platform's directory export (Entra, AD, Google, Atlassian, Jira tables...) to Crosswalk CSV.
    #[command(subcommand)]
    Directory(crate::commands::peers::DirectoryCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum TransformsCommand {
    /// Show what each transform of a policy changes on the real directories, before any run.
    #[command(
        long_about = "Applies the policy's [[transforms]] to the two directories and shows, per transform: \
how many usernames and addresses it changes on each side (with examples), which accounts it makes \
share a key (collisions, which the engine would then refuse as ambiguous), and how many source \
accounts gain a match by it. Then it lists the source accounts that would gain, lose or change an \
email or username link compared with the same policy without transforms. Nothing is stored and \
the store is not opened.",
        after_help = "Example:\n  crosswalk transforms preview -s server.json -d cloud.csv -p policy.toml\n\n\
Transforms are described in docs/policy.example.toml. When the preview looks right, run the job: \
crosswalk run -s server.json -d cloud.csv -p policy.toml --job wave-1"
    )]
    Preview(TransformsPreviewArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TransformsPreviewArgs {
    /// The directory you migrate from (SCIM JSON or CSV).
    #[arg(long, short = 's')]
    pub(crate) source: PathBuf,
    /// The directory you migrate to (SCIM JSON or CSV).
    #[arg(long, short = 'd')]
    pub(crate) destination: PathBuf,
    /// The policy (TOML) whose [[transforms]] to preview.
    #[arg(long, short = 'p')]
    pub(crate) policy: PathBuf,
    /// The exceptions (CSV `type,source,destination`) the run will have. An account they pin
    /// is resolved by its exception whatever the transforms do, so the preview leaves it out
    /// of the links gained and lost, as the run will.
    #[arg(long, short = 'e')]
    pub(crate) exceptions: Option<PathBuf>,
    /// Preview on the valid rows and list the invalid ones, instead of refusing the whole file.
    #[arg(long)]
    pub(crate) skip_invalid: bool,
    /// Output format: a readable summary, or JSON for programs.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub(crate) format: SummaryFormat,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("labelled").required(true).args(["truth", "generate", "febrl4"])))]
pub(crate) struct EvalArgs {
    /// Source directory (SCIM JSON or CSV) of a labelled pair; needs --destination and --truth.
    #[arg(long, short = 's', requires_all = ["destination", "truth"])]
    pub(crate) source: Option<PathBuf>,
    /// Destination directory (SCIM JSON or CSV) of a labelled pair.
    #[arg(long, short = 'd', requires_all = ["source", "truth"])]
    pub(crate) destination: Option<PathBuf>,
    /// Truth CSV (`type,source_id,destination_id,category,linkable`) for --source and --destination.
    #[arg(long, short = 't', requires_all = ["source", "destination"])]
    pub(crate) truth: Option<PathBuf>,
    /// Generate a pair of this many source accounts in memory and score on it (nothing is written).
    #[arg(long, short = 'n', value_name = "ACCOUNTS")]
    pub(crate) generate: Option<usize>,
    /// Random seed for --generate: the same seed scores the same data.
    #[arg(long, default_value_t = 42, requires = "generate")]
    pub(crate) seed: u64,
    /// Score on FEBRL4: the folder with dataset4a.csv and dataset4b.csv (testdata/febrl4).
    #[arg(long, value_name = "DIR")]
    pub(crate) febrl4: Option<PathBuf>,
    /// Policy (TOML) for the engine. Default: Crosswalk's default policy for --truth; the
    /// generator's policy (what `crosswalk generate` writes) for --generate; the default
    /// policy with name.organisation_domains = ["org.example"] for --febrl4.
    #[arg(long, short = 'p')]
    pub(crate) policy: Option<PathBuf>,
    /// Exceptions (CSV `type,source,destination`) for the engine; the email-only rule has none.
    #[arg(long, short = 'e')]
    pub(crate) exceptions: Option<PathBuf>,
    /// Score the review suggestions instead: at each threshold, how many Unresolved mappings
    /// would be suggested and how many of those would be wrong if all were accepted
    /// (docs/matching.md, "Review suggestions").
    #[arg(long)]
    pub(crate) suggestions: bool,
    /// Output format: tables, JSON (every false merge listed), or the Markdown table for BENCHMARKS.md.
    #[arg(long, short = 'f', value_enum, default_value_t = EvalFormat::Text)]
    pub(crate) format: EvalFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum EvalFormat {
    /// Per-category tables, rule by rule, and the false merges.
    Text,
    /// Everything, for programs.
    Json,
    /// The side-by-side table as GitHub Markdown.
    Markdown,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The directory you migrate from (SCIM JSON, CSV or LDIF), or an LDAP server to read it
    /// from: ldap://host:389 or ldaps://host:636 (see --ldap-base and the examples below).
    #[arg(long, short = 's')]
    pub(crate) source: PathBuf,
    /// The directory you migrate to (SCIM JSON or CSV).
    #[arg(long, short = 'd')]
    pub(crate) destination: PathBuf,
    /// Policy (TOML): method order, domain aliases, fallbacks. Default policy without it;
    /// see docs/policy.example.toml.
    #[arg(long, short = 'p')]
    pub(crate) policy: Option<PathBuf>,
    /// Exceptions (CSV `type,source,destination`): explicit mappings that always win. They
    /// become the scope's rules, which later runs without --exceptions keep using; a file
    /// with only the header line removes them.
    #[arg(long, short = 'e')]
    pub(crate) exceptions: Option<PathBuf>,
    /// Job name, unique within the scope. Running a job again adds a run; default:
    /// `<source file> to <destination file>`.
    #[arg(long, short = 'j', value_parser = parse_job_name)]
    pub(crate) job: Option<String>,
    /// Store the valid rows and list the invalid ones, instead of refusing the whole file.
    #[arg(long)]
    pub(crate) skip_invalid: bool,
    /// Run the pre-flight checks first (`crosswalk check`) and refuse to run while they find
    /// blockers (invalid, duplicate or missing emails, reserved group names).
    #[arg(long)]
    pub(crate) check: bool,
    /// With --check: run despite blockers. The override is kept with the run's warnings,
    /// saying who overrode which blockers and when.
    #[arg(long, requires = "check")]
    pub(crate) override_blockers: bool,
    /// An edited findings CSV (`crosswalk check --format csv`): its fixes (merge, tombstone,
    /// new email, exclude) are applied to the source first, all rows or none, and how they
    /// handle each identity is recorded in the scope. A later wave handling one of those
    /// identities differently (merged into another account, a new email instead of a
    /// tombstone...) would make a second account for that person and is refused.
    #[arg(long, value_name = "FILE")]
    pub(crate) fixes: Option<PathBuf>,
    /// Run although the fixes switch how an earlier wave handled some identities (see
    /// --fixes). The switch is recorded with who and when (`crosswalk scope show` lists it).
    #[arg(long)]
    pub(crate) force: bool,
    /// Summary format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub(crate) format: SummaryFormat,
    #[command(flatten)]
    pub(crate) ldap: LdapArgs,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

/// How `run` reads a source given as ldap:// or ldaps:// (ignored for files).
#[derive(Debug, Args)]
#[command(next_help_heading = "LDAP source (with --source ldap://... or ldaps://...)")]
pub(crate) struct LdapArgs {
    /// Search base; default: the server's default naming context.
    #[arg(long, value_name = "DN")]
    pub(crate) ldap_base: Option<String>,
    /// LDAP filter; default: people and groups (groupOfNames, groupOfUniqueNames, posixGroup,
    /// AD groups).
    #[arg(long, value_name = "FILTER")]
    pub(crate) ldap_filter: Option<String>,
    /// Upgrade the ldap:// connection with StartTLS before binding.
    #[arg(long)]
    pub(crate) ldap_starttls: bool,
    /// A file with the bind DN on its first line and the password on its second (keep it
    /// private); default: CROSSWALK_LDAP_BIND_DN and CROSSWALK_LDAP_PASSWORD, or anonymous.
    #[arg(long, value_name = "FILE")]
    pub(crate) ldap_credentials: Option<PathBuf>,
    /// Entries per page of the paged search.
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(i32).range(1..))]
    pub(crate) ldap_page_size: i32,
}

impl LdapArgs {
    pub(crate) fn options(&self) -> crosswalk_ldap::LdapOptions {
        crosswalk_ldap::LdapOptions {
            base: self.ldap_base.clone(),
            filter: self.ldap_filter.clone(),
            starttls: self.ldap_starttls,
            credentials_file: self.ldap_credentials.clone(),
            page_size: Some(self.ldap_page_size),
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum ReviewCommand {
    /// List the suggestions: Unresolved mappings whose best candidate is strong, with that candidate and why.
    #[command(
        long_about = "A suggestion is an Unresolved mapping whose best candidate the engine scored at least \
--min-score (default 0.90), with no other candidate at 0.50 or more, and no flag a person must look \
at (look-alike, ambiguous, shared destination, bad exception, reserved group, deactivated, unverified \
address). A candidate you rejected is not suggested again. docs/matching.md says how the default was \
chosen: accepting every suggestion at it made no wrong link on the labelled data.",
        after_help = "Examples:\n  crosswalk review list --scope acme\n  crosswalk review list --scope acme --min-score 0.9 --format json"
    )]
    List(ReviewListArgs),
    /// Accept suggestions (one, several, or --all above --min-score): each becomes an exception and applies at once.
    #[command(
        after_help = "Examples:\n  crosswalk review accept --scope acme JIRAUSER10042\n  \
crosswalk review accept --scope acme --all --min-score 0.9\n\n\
Each accepted suggestion is an exception rule (who and when are kept); the mapping's job is resolved \
again at once from its stored directories, so the report and the mapping's history show it now."
    )]
    Accept(ReviewDecideArgs),
    /// Reject suggestions: the candidate is remembered and not suggested again; the mapping stays Unresolved.
    #[command(
        after_help = "Examples:\n  crosswalk review reject --scope acme JIRAUSER10042\n  \
crosswalk review reject --scope acme --all --min-score 0.8"
    )]
    Reject(ReviewDecideArgs),
    /// Search the destination identities the scope's jobs resolved against (for `crosswalk resolve --to`).
    #[command(
        after_help = "Examples:\n  crosswalk review destinations --scope acme --search doe\n  \
crosswalk review destinations --scope acme --kind group --search dev"
    )]
    Destinations(ReviewDestinationsArgs),
}

/// Accounts or groups.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum KindArg {
    User,
    Group,
}

impl KindArg {
    pub(crate) fn kind(self) -> crosswalk_core::IdentityKind {
        match self {
            KindArg::User => crosswalk_core::IdentityKind::Account,
            KindArg::Group => crosswalk_core::IdentityKind::Group,
        }
    }
}

/// A score from 0 to 1, as the engine gives them.
pub(crate) fn parse_score(text: &str) -> Result<crosswalk_core::Confidence, String> {
    match text.trim().parse::<f64>() {
        Ok(score) if (0.0..=1.0).contains(&score) => {
            Ok(crosswalk_core::Confidence::from_probability(score))
        }
        _ => Err(format!(
            "{text:?} is not a score; give a number from 0 to 1, e.g. 0.9"
        )),
    }
}

#[derive(Debug, Args)]
pub(crate) struct ReviewListArgs {
    /// Only suggestions scored at least this (0 to 1). Default: 0.90, see docs/matching.md.
    #[arg(long, value_parser = parse_score, value_name = "SCORE")]
    pub(crate) min_score: Option<crosswalk_core::Confidence>,
    /// Only users, or only groups.
    #[arg(long, value_enum)]
    pub(crate) kind: Option<KindArg>,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub(crate) format: SummaryFormat,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["all", "keys"])))]
pub(crate) struct ReviewDecideArgs {
    /// The source keys (source ids) of the suggestions, as `review list` shows them.
    #[arg(value_name = "SOURCE_KEY")]
    pub(crate) keys: Vec<String>,
    /// Every suggestion scored at least --min-score.
    #[arg(long, conflicts_with = "keys")]
    pub(crate) all: bool,
    /// Only suggestions scored at least this (0 to 1). Default: 0.90, see docs/matching.md.
    #[arg(long, value_parser = parse_score, value_name = "SCORE")]
    pub(crate) min_score: Option<crosswalk_core::Confidence>,
    /// Only users, or only groups.
    #[arg(long, value_enum)]
    pub(crate) kind: Option<KindArg>,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub(crate) format: SummaryFormat,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ReviewDestinationsArgs {
    /// Only identities whose id, username, address, alias or name contains this (ignoring case).
    #[arg(long)]
    pub(crate) search: Option<String>,
    /// Users (default) or groups.
    #[arg(long, value_enum, default_value_t = KindArg::User)]
    pub(crate) kind: KindArg,
    /// At most this many (1 to 1000).
    #[arg(long, default_value_t = 50)]
    pub(crate) limit: usize,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub(crate) format: SummaryFormat,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("decision").required(true).args(["to", "provision", "former_user"])))]
pub(crate) struct ResolveArgs {
    /// The mapping's source key (source id), or for users any alternate key (username, address).
    pub(crate) key: String,
    /// Link it to this destination identity: its id, email:ADDRESS, username:NAME (name:NAME for a group), or a bare value.
    #[arg(long, value_name = "DESTINATION")]
    pub(crate) to: Option<String>,
    /// Create it on the destination.
    #[arg(long)]
    pub(crate) provision: bool,
    /// Migrate it as a former user: its content keeps the name, no live account (users only).
    #[arg(long)]
    pub(crate) former_user: bool,
    /// A user's mapping (default) or a group's.
    #[arg(long, value_enum, default_value_t = KindArg::User)]
    pub(crate) kind: KindArg,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub(crate) format: SummaryFormat,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct JobsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub(crate) format: SummaryFormat,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ScopeCommand {
    /// Create a scope: one source instance paired with one destination instance.
    #[command(
        after_help = "Example:\n  crosswalk scope create acme --source-label 'jira-server https://jira.acme.local' \\\n      \
--destination-label 'atlassian-cloud https://acme.atlassian.net'\n\n\
The source label's first word names the platform (jira..., confluence...): it decides which prefixed \
keys (jira.userkey/..., confluence.userkey/...) `history` and look-ups understand."
    )]
    Create(ScopeCreateArgs),
    /// List the scopes.
    List(ScopeListArgs),
    /// Show one scope: its instances, jobs with their transfer ids, exception rules and retention.
    Show(ScopeShowArgs),
    /// Set how long a namespace's removed mappings are kept before `crosswalk purge` may remove them.
    #[command(
        after_help = "Examples:\n  crosswalk scope retention --scope acme identity:user 90\n  \
crosswalk scope retention --scope acme confluence:page forever"
    )]
    Retention(ScopeRetentionArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ScopeCreateArgs {
    /// The scope's name.
    pub(crate) name: String,
    /// The source instance, e.g. `jira-server https://jira.acme.local`.
    #[arg(long, value_name = "LABEL")]
    pub(crate) source_label: String,
    /// The destination instance, e.g. `atlassian-cloud https://acme.atlassian.net`.
    #[arg(long, value_name = "LABEL")]
    pub(crate) destination_label: String,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ScopeListArgs {
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub(crate) format: SummaryFormat,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ScopeShowArgs {
    /// The scope's name.
    pub(crate) name: String,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub(crate) format: SummaryFormat,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ScopeRetentionArgs {
    /// The namespace: identity:user, identity:group, or an app's product:entity.
    pub(crate) namespace: String,
    /// Days a removed mapping is kept, or `forever`.
    pub(crate) keep: String,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// The mapping's source key, or in identity:user any alternate key.
    pub(crate) key: String,
    /// The namespace: identity:user, identity:group, or an app's product:entity.
    #[arg(long, short = 'n', default_value = "identity:user")]
    pub(crate) namespace: String,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub(crate) format: SummaryFormat,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum ChangesFormat {
    /// One line per revision, then the next cursor.
    Text,
    /// One JSON object per revision, then {"cursor": ...}.
    Jsonl,
}

#[derive(Debug, Args)]
pub(crate) struct ChangesArgs {
    /// Only revisions after this cursor (as a previous `changes` printed it).
    #[arg(long, value_name = "CURSOR")]
    pub(crate) since: Option<String>,
    /// At most this many revisions (1 to 10,000).
    #[arg(long, default_value_t = 1000)]
    pub(crate) limit: usize,
    #[arg(long, value_enum, default_value_t = ChangesFormat::Text)]
    pub(crate) format: ChangesFormat,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct PurgeArgs {
    /// The namespace whose removed mappings to purge.
    #[arg(long, short = 'n')]
    pub(crate) namespace: String,
    /// Say what would be removed; remove nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum SummaryFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum ReportFormat {
    /// The 12-column export, safe to open in a spreadsheet.
    Csv,
    /// A JSON array of row objects: the 12 columns, then the row's flags and confidence.
    Json,
    /// One JSON object per line, as in json.
    Jsonl,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum SortOrder {
    Asc,
    Desc,
}

fn parse_report_column(text: &str) -> Result<crosswalk_store::scope::ReportColumn, String> {
    crosswalk_store::scope::ReportColumn::parse(text).ok_or_else(|| {
        format!(
            "unknown column {text:?}; sort by one of {}",
            crosswalk_store::scope::ReportColumn::names()
        )
    })
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum KindFilter {
    Account,
    Group,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Only the source identities this job's latest run resolved. Default: the scope's
    /// current mappings, whichever job made them.
    #[arg(long, short = 'j', value_parser = parse_job_name)]
    pub(crate) job: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Csv)]
    pub(crate) format: ReportFormat,
    /// Only these resolutions (repeat or comma-separate): exception, email, id, username,
    /// name, provision, passthrough, external, default, unresolved.
    #[arg(long, short = 'r', value_delimiter = ',', value_parser = parse_resolution)]
    pub(crate) resolution: Vec<crosswalk_core::Resolution>,
    /// Only accounts or only groups.
    #[arg(long = "type", short = 't', value_enum)]
    pub(crate) kind: Option<KindFilter>,
    /// Only rows with a flag (look-alike, ambiguous, shared destination, unverified or invalid
    /// address, inactive, reserved group, bad exception): what a reviewer must see. The JSON
    /// formats say which flags; `crosswalk explain` says why.
    #[arg(long)]
    pub(crate) flagged: bool,
    /// Only mappings flagged ambiguous: several destination identities fit, none was chosen.
    #[arg(long)]
    pub(crate) ambiguous: bool,
    /// Only suggestions: Unresolved mappings whose best candidate is strong and clear (the
    /// review queue's rule and default threshold; `crosswalk review list` says why).
    #[arg(long)]
    pub(crate) suggested: bool,
    /// Only rows containing this text (any case) in a source or destination field: id,
    /// username, name or any address, display name.
    #[arg(long, value_name = "TEXT")]
    pub(crate) search: Option<String>,
    /// Sort by this column: type, job, source_id, source_username, source_name,
    /// source_display_name, destination_id, destination_username, destination_name,
    /// destination_display_name, resolution, message. Default: type (users, then groups, by
    /// source id), which streams in one pass; any other sort reads the report once per
    /// 10,000 rows.
    #[arg(long, value_name = "COLUMN", value_parser = parse_report_column)]
    pub(crate) sort: Option<crosswalk_store::scope::ReportColumn>,
    /// Sort order.
    #[arg(long, value_enum, default_value_t = SortOrder::Asc)]
    pub(crate) order: SortOrder,
    /// Print one page of at most N rows (1 to 10,000); the cursor of the next page goes to
    /// standard error (in the JSON formats, in the output's `next`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=10000))]
    pub(crate) limit: Option<u16>,
    /// Start after this cursor (the `next` a page printed); use with the same filters and sort.
    #[arg(long, value_name = "CURSOR", requires = "limit")]
    pub(crate) after: Option<String>,
    /// Print how many rows match, and per resolution how many match the other filters,
    /// instead of the rows.
    #[arg(long, conflicts_with_all = ["limit", "after", "output"])]
    pub(crate) counts: bool,
    /// Write to this file instead of standard output. A CSV of more rows than Excel opens
    /// (1,048,576 with the header) is split into FILE-1.csv, FILE-2.csv…, each with its
    /// header; the parts written are listed on standard error.
    #[arg(long, short = 'o')]
    pub(crate) output: Option<PathBuf>,
    /// A job's transfer id (as `run` and `jobs` print it): the current mappings of its scope,
    /// whichever job of the scope made them. In place of --scope.
    #[arg(long, value_name = "UUID", conflicts_with = "scope")]
    pub(crate) transfer: Option<uuid::Uuid>,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

/// A job name: something to see in a listing. Empty or blank names, and control or
/// invisible characters, would make jobs no one can tell apart or type.
pub(crate) fn parse_job_name(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("a job needs a name; say which, e.g. --job wave-1".into());
    }
    if let Some(problem) = crosswalk_core::directory::identifier_problem(text) {
        return Err(problem.replace("an identifier", "a job name"));
    }
    Ok(text.to_string())
}

fn parse_resolution(text: &str) -> Result<crosswalk_core::Resolution, String> {
    crosswalk_core::Resolution::parse(text).ok_or_else(|| {
        let all: Vec<&str> = crosswalk_core::Resolution::ALL
            .iter()
            .map(|r| r.as_str())
            .collect();
        format!("unknown resolution {text:?}; use one of {}", all.join(", "))
    })
}

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// A job of the scope (checked: an unknown job lists the scope's jobs). The mapping shown
    /// is the scope's current one, whichever job last changed it.
    #[arg(long, short = 'j', value_parser = parse_job_name)]
    pub(crate) job: Option<String>,
    /// The source identity's id (for accounts also its username or an address).
    pub(crate) source_id: String,
    /// Whether the id is an account's or a group's.
    #[arg(long = "type", short = 't', value_enum, default_value_t = KindFilter::Account)]
    pub(crate) kind: KindFilter,
    #[command(flatten)]
    pub(crate) scope: ScopeArg,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// Number of source accounts (the destination gets about as many).
    #[arg(long, short = 'n', default_value_t = 1000)]
    pub(crate) accounts: usize,
    /// Random seed: the same seed writes the same files.
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,
    /// Folder to write source.csv, destination.csv (.jsonl, .ldif), truth.csv and policy.toml into.
    #[arg(long, short = 'o', default_value = "generated")]
    pub(crate) out: PathBuf,
    /// Directory file format.
    #[arg(long, value_enum, default_value_t = DirectoryFileFormat::Csv)]
    pub(crate) format: DirectoryFileFormat,
    /// Also write items.csv with this many content references to the source's identities
    /// (for `crosswalk check --items`).
    #[arg(long, value_name = "N")]
    pub(crate) items: Option<usize>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum DirectoryFileFormat {
    Csv,
    /// SCIM 2.0 resources, one per line.
    Scim,
    /// LDIF as OpenLDAP's slapcat writes it (dc=example,dc=com; entryUUID ids, which
    /// truth.csv uses too); `slapadd -s` loads it into a server.
    Ldif,
    /// Entra ID's "Download users" CSV: accounts only (the download has no groups or
    /// aliases), so truth.csv lists accounts only.
    EntraCsv,
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Source accounts to generate (the destination gets about as many).
    #[arg(long, short = 'n', default_value_t = 100_000)]
    pub(crate) accounts: usize,
    /// How many times to resolve; the report gives the fastest and the median.
    #[arg(long, default_value_t = 3)]
    pub(crate) repeat: usize,
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,
    /// Leave the Name method (the evidence tier) out of the policy, to measure what it costs.
    #[arg(long)]
    pub(crate) without_name_tier: bool,
    /// Measure webhook delivery instead of the engine: commit this many events and deliver
    /// them, as `crosswalk serve` does, to a receiver on loopback; then the delay from
    /// commit to delivery at --webhook-rate. Prints events delivered a second and the
    /// delay's p50 and p99.
    #[arg(long, value_name = "EVENTS")]
    pub(crate) webhooks: Option<usize>,
    /// With --webhooks: subscriptions each event goes to (each delivers in order, one at a time).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "webhooks")]
    pub(crate) webhook_subscriptions: usize,
    /// With --webhooks: events committed a second while the delay is measured (for ten
    /// seconds, at most --webhooks events).
    #[arg(
        long,
        value_name = "PER_SECOND",
        default_value_t = 50,
        requires = "webhooks"
    )]
    pub(crate) webhook_rate: u32,
    /// With --webhooks: the delivery worker's longest sleep between rounds (`crosswalk serve`
    /// polls every 500 ms).
    #[arg(long, value_name = "MS", default_value_t = 500, requires = "webhooks")]
    pub(crate) webhook_poll_ms: u64,
    /// With --webhooks: measure on this database (a `postgres://` URL of a database of its
    /// own, or `sqlite://FILE`) instead of a new SQLite file in a temporary folder; its two
    /// bench scopes are left there.
    #[arg(long, value_name = "URL", requires = "webhooks")]
    pub(crate) webhook_database: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn misplaced(args: &[&str]) -> Option<String> {
        let args: Vec<std::ffi::OsString> = std::iter::once("crosswalk")
            .chain(args.iter().copied())
            .map(Into::into)
            .collect();
        misplaced_store_option(&args)
    }

    #[test]
    fn store_before_the_command_is_pointed_after_it() {
        let hint = "--store goes after the command's name: crosswalk demo --store s.sqlite ...";
        assert_eq!(
            misplaced(&["--store", "s.sqlite", "demo"]).as_deref(),
            Some(hint)
        );
        assert_eq!(
            misplaced(&["--store=s.sqlite", "demo"]).as_deref(),
            Some(hint)
        );
        let eval = misplaced(&["--store", "s.sqlite", "eval", "--generate", "10"]).unwrap();
        assert!(
            eval.starts_with("`crosswalk eval` opens no store"),
            "{eval}"
        );
    }

    #[test]
    fn store_after_the_command_or_nowhere_is_left_to_clap() {
        assert_eq!(misplaced(&["demo", "--store", "s.sqlite"]), None);
        assert_eq!(misplaced(&["report", "--job", "demo"]), None);
        assert_eq!(
            misplaced(&["--store", "s.sqlite"]),
            None,
            "no command: clap says what is missing"
        );
        assert_eq!(misplaced(&["--version"]), None);
        assert_eq!(misplaced(&[]), None);
    }

    #[test]
    fn hints_name_the_store_a_shell_reads_back() {
        use std::path::Path;
        assert_eq!(StoreArgs::hint(Path::new("crosswalk.sqlite")), "");
        assert_eq!(
            StoreArgs::hint(Path::new("/tmp/x/s.sqlite")),
            " --store /tmp/x/s.sqlite"
        );
        assert_eq!(
            StoreArgs::hint(Path::new("my store's.sqlite")),
            " --store 'my store'\\''s.sqlite'"
        );
    }

    #[test]
    fn exactly_the_store_commands_offer_store() {
        use clap::CommandFactory;
        let cli = Cli::command();
        let offers = |command: &clap::Command| {
            command
                .get_arguments()
                .any(|arg| arg.get_long() == Some("store"))
        };
        let mut offering: Vec<String> = Vec::new();
        for command in cli.get_subcommands() {
            let name = command.get_name();
            let subcommands: Vec<&clap::Command> = command
                .get_subcommands()
                .filter(|sub| sub.get_name() != "help")
                .collect();
            if subcommands.is_empty() || offers(command) {
                // A command without subcommands, or one that lists by itself (`items`), offers it directly;
                // its subcommands (`items import`) then offer it as well.
                if offers(command) {
                    offering.push(name.to_string());
                }
                for sub in &subcommands {
                    assert!(
                        offers(sub),
                        "`{name} {}` opens the store but takes no --store",
                        sub.get_name()
                    );
                }
            } else {
                // A group (`scope`, `webhook`...) offers it when every subcommand does, or none of them.
                let offered: Vec<bool> = subcommands.iter().map(|sub| offers(sub)).collect();
                assert!(
                    offered.iter().all(|o| *o) || offered.iter().all(|o| !*o),
                    "`{name}`: some subcommands take --store, some not"
                );
                if offered[0] {
                    offering.push(name.to_string());
                }
            }
        }
        offering.sort();
        let mut expected = STORE_COMMANDS.map(String::from).to_vec();
        expected.sort();
        assert_eq!(offering, expected);
        assert!(
            cli.get_arguments()
                .all(|arg| arg.get_long() != Some("store")),
            "no global --store"
        );
    }
}
