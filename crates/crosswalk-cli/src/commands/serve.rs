//! `crosswalk serve` (the mapping API and the web UI, crosswalk-server), `crosswalk token`
//! (its bearer tokens: made, listed, revoked on the store the server reads), and the web UI
//! `crosswalk demo` serves after its run.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use crosswalk_server::ServerState;

use crate::cli::StoreArgs;

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address and port to listen on (port 0: any free port; the one taken is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDRESS:PORT")]
    pub(crate) listen: SocketAddr,
    /// Mark the web UI's session cookies Secure: use it when browsers reach the server over
    /// HTTPS (a proxy in front terminating TLS), so the cookie never travels over plain HTTP.
    #[arg(long)]
    pub(crate) secure_cookies: bool,
    /// Answer SCIM requests (/scim/v2) beyond this many a second with 429 and Retry-After,
    /// so an identity provider backs off instead of starving the mapping API.
    #[arg(long, value_name = "REQUESTS_PER_SECOND", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) scim_rate: Option<u32>,
    /// How long a verified bearer token is used without reading the store again, in
    /// milliseconds. A token revoked elsewhere (another server on the same store, or
    /// `crosswalk token revoke`) is refused here at most this much later; one revoked through
    /// this server at once. 0 reads every request's token from the store.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub(crate) token_cache_ms: u64,
    #[command(flatten)]
    pub(crate) webhooks: WebhookServeArgs,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

/// How `crosswalk serve` delivers webhooks (issue 21). The hidden settings make tests fast.
#[derive(Debug, Args)]
pub(crate) struct WebhookServeArgs {
    /// Allow webhook targets in this address range although it is internal (loopback,
    /// private, link-local...; refused by default so a webhook cannot reach internal
    /// services). Repeatable: --webhook-allow 127.0.0.0/8 --webhook-allow 10.20.0.0/16.
    #[arg(long, value_name = "CIDR")]
    pub(crate) webhook_allow: Vec<String>,
    /// How long a failing delivery is retried (with exponential backoff and jitter) before
    /// it is marked failed, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 24 * 60 * 60)]
    pub(crate) webhook_retry_period: u64,
    /// Deliver no webhooks from this process (another server on the same database does).
    #[arg(long)]
    pub(crate) no_webhook_delivery: bool,
    #[arg(long, hide = true, value_name = "MS")]
    pub(crate) webhook_retry_period_ms: Option<u64>,
    #[arg(long, hide = true, value_name = "MS", default_value_t = 10_000)]
    pub(crate) webhook_first_delay_ms: u64,
    #[arg(long, hide = true, value_name = "MS", default_value_t = 3_600_000)]
    pub(crate) webhook_max_delay_ms: u64,
    #[arg(long, hide = true, value_name = "MS", default_value_t = 5_000)]
    pub(crate) webhook_timeout_ms: u64,
    #[arg(long, hide = true, value_name = "MS", default_value_t = 60_000)]
    pub(crate) webhook_lease_ms: u64,
    #[arg(long, hide = true, value_name = "MS", default_value_t = 500)]
    pub(crate) webhook_poll_ms: u64,
}

impl WebhookServeArgs {
    fn policy(&self) -> Result<crosswalk_events::TargetPolicy> {
        let mut policy = crosswalk_events::TargetPolicy::default();
        for range in &self.webhook_allow {
            policy = policy.allow(
                crosswalk_events::parse_range(range)
                    .with_context(|| format!("--webhook-allow {range}"))?,
            );
        }
        Ok(policy)
    }

    fn worker(&self) -> Result<crosswalk_server::webhooks::WorkerConfig> {
        let schedule = crosswalk_events::RetrySchedule {
            first_delay: Duration::from_millis(self.webhook_first_delay_ms),
            max_delay: Duration::from_millis(self.webhook_max_delay_ms),
            max_period: Duration::from_millis(
                self.webhook_retry_period_ms
                    .unwrap_or(self.webhook_retry_period.saturating_mul(1000)),
            ),
        };
        schedule.validate().context("the webhook retry settings")?;
        let timeout = Duration::from_millis(self.webhook_timeout_ms);
        Ok(crosswalk_server::webhooks::WorkerConfig {
            delivery: crosswalk_events::DeliveryConfig {
                timeout,
                policy: self.policy()?,
                extra_roots: Vec::new(),
            },
            settings: crosswalk_app::DeliverySettings {
                schedule,
                // A lease shorter than an attempt would let a second worker take a delivery
                // still being sent.
                lease: Duration::from_millis(self.webhook_lease_ms)
                    .max(timeout + Duration::from_millis(500)),
                ..Default::default()
            },
            poll: Duration::from_millis(self.webhook_poll_ms.max(1)),
        })
    }
}

/// How `crosswalk demo` serves the web UI after its run.
#[derive(Debug, Args)]
pub(crate) struct DemoServeArgs {
    /// Only run the demo: do not serve the web UI after it.
    #[arg(long, env = "CROSSWALK_DEMO_NO_SERVE", value_parser = clap::builder::FalseyValueParser::new())]
    pub(crate) no_serve: bool,
    /// Where the web UI listens (port 0: a free port; the address taken is printed).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDRESS:PORT")]
    pub(crate) listen: SocketAddr,
    /// Stop serving after this many seconds (for scripts); without it, Ctrl-C stops.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) serve_for: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Make a bearer token and print it, once: only its hash is stored.
    #[command(after_help = "Examples:\n  \
crosswalk token create --scope acme --role reader --label \"migration app\"\n  \
crosswalk token create --instance-admin --label ops")]
    Create(TokenCreateArgs),
    /// List tokens (never their secrets): a scope's, or every one.
    List(TokenListArgs),
    /// Revoke a token by its public id (the part after cw_, before the next _).
    Revoke(TokenRevokeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TokenCreateArgs {
    /// The scope the token reads (and, as writer or admin, writes).
    #[arg(
        long,
        required_unless_present = "instance_admin",
        conflicts_with = "instance_admin"
    )]
    pub(crate) scope: Option<String>,
    /// reader: reads; writer: also writes app namespaces and exceptions and runs jobs;
    /// admin: also manages the scope's tokens and retention.
    #[arg(long, value_parser = ["reader", "writer", "admin"], default_value = "reader")]
    pub(crate) role: String,
    /// A token for every scope that also creates scopes and manages tokens.
    #[arg(long)]
    pub(crate) instance_admin: bool,
    /// What the token is for, shown by `token list`.
    #[arg(long, default_value = "api")]
    pub(crate) label: String,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct TokenListArgs {
    /// Only this scope's tokens.
    #[arg(long)]
    pub(crate) scope: Option<String>,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

#[derive(Debug, Args)]
pub(crate) struct TokenRevokeArgs {
    pub(crate) public_id: String,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

pub(crate) fn serve(args: ServeArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    runtime.block_on(async {
        crosswalk_server::init_logging();
        let database = args.store.database()?;
        let worker_config = args.webhooks.worker()?;
        let state = ServerState::open(&database)
            .await?
            .with_secure_cookies(args.secure_cookies)
            .with_webhook_policy(args.webhooks.policy()?)
            .with_scim_rate(args.scim_rate)
            .with_token_cache(Duration::from_millis(args.token_cache_ms));
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener
            .local_addr()
            .context("cannot read the address listened on")?;
        let worker = if args.webhooks.no_webhook_delivery {
            None
        } else {
            Some(
                crosswalk_server::webhooks::spawn_worker(state.app.clone(), worker_config)
                    .context("cannot start webhook delivery")?,
            )
        };
        outln!(
            "listening on http://{address} (store {}); Ctrl-C stops",
            database.describe()
        )?;
        let served =
            crosswalk_server::serve(listener, state.clone(), crosswalk_server::shutdown_signal())
                .await;
        if let Some(worker) = worker {
            worker.abort();
        }
        state.close().await;
        served.context("the server stopped on an error")
    })
}

/// After the demo's run: serves the web UI on `args.listen`, printing its address and a new
/// admin token of `scope` to sign in with, until Ctrl-C (or `--serve-for` seconds).
pub(crate) fn serve_demo(store: &StoreArgs, scope: &str, args: &DemoServeArgs) -> Result<()> {
    if args.no_serve {
        return Ok(());
    }
    let database = store.database()?;
    if matches!(database, crosswalk_app::Database::Postgres(_)) {
        outln!(
            "\n(the web UI is not served: its sign-in tokens live in the SQLite store for now)"
        )?;
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    runtime.block_on(async {
        let state = ServerState::open(&database).await?;
        let role = crosswalk_store::scope::Role::Admin;
        let issued = crosswalk_server::tokens::issue(state.tokens.as_ref(), Some(scope), role, "demo web UI", &who(), time::OffsetDateTime::now_utc())
            .await
            .map_err(|e| anyhow::anyhow!("cannot create the demo's sign-in token: {e}"))?;
        let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr().context("cannot read the address listened on")?;
        let stops = match args.serve_for {
            Some(seconds) => format!("stops after {seconds} s, or on Ctrl-C"),
            None => "Ctrl-C stops it".to_string(),
        };
        outln!("\nthe web UI: http://{address}/ui/ ({stops})")?;
        outln!("sign in with this admin token of scope {scope:?}, made for the demo and shown this once:")?;
        outln!("  {}", issued.token)?;
        let serve_for = args.serve_for;
        let stop = async move {
            match serve_for {
                Some(seconds) => {
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(seconds)) => {}
                        () = crosswalk_server::shutdown_signal() => {}
                    }
                }
                None => crosswalk_server::shutdown_signal().await,
            }
        };
        let served = crosswalk_server::serve(listener, state.clone(), stop).await;
        state.close().await;
        served.context("the web UI stopped on an error")
    })
}

fn who() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_default();
    format!(
        "cli:{}",
        if user.trim().is_empty() {
            "unknown"
        } else {
            user.trim()
        }
    )
}

pub(crate) fn token(command: TokenCommand) -> Result<()> {
    super::block_on(async {
        match command {
            TokenCommand::Create(args) => {
                let state = ServerState::open(&args.store.database()?).await?;
                let role = crosswalk_store::scope::Role::parse(&args.role)?;
                let scope = if args.instance_admin {
                    None
                } else {
                    args.scope.as_deref()
                };
                let issued = crosswalk_server::tokens::issue(
                    state.tokens.as_ref(),
                    scope,
                    role,
                    &args.label,
                    &who(),
                    time::OffsetDateTime::now_utc(),
                )
                .await
                .map_err(|e| anyhow::anyhow!("cannot create the token: {e}"))?;
                state.close().await;
                outln!("{}", issued.token)?;
                eprintln!(
                    "{} token {} for {} made. It is shown this once: only its hash is stored.",
                    issued.row.role,
                    issued.row.public_id,
                    scope.map_or("every scope (instance admin)".to_string(), |s| format!(
                        "scope {s:?}"
                    ))
                );
                Ok(())
            }
            TokenCommand::List(args) => {
                let state = ServerState::open(&args.store.database()?).await?;
                let tokens = state.tokens.tokens(args.scope.as_deref()).await?;
                state.close().await;
                let rfc3339 = |at: time::OffsetDateTime| {
                    at.format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default()
                };
                for token in tokens {
                    let revoked = token
                        .revoked_at
                        .map_or(String::new(), |at| format!(" revoked {}", rfc3339(at)));
                    outln!(
                        "{}  {}  {}  {:?}  made {} by {}{revoked}",
                        token.public_id,
                        token.scope.as_deref().unwrap_or("*"),
                        token.role,
                        token.label,
                        rfc3339(token.created_at),
                        token.created_by
                    )?;
                }
                Ok(())
            }
            TokenCommand::Revoke(args) => {
                let state = ServerState::open(&args.store.database()?).await?;
                let row = state
                    .tokens
                    .revoke_token(&args.public_id, time::OffsetDateTime::now_utc())
                    .await;
                state.close().await;
                let row = row?;
                outln!(
                    "token {} ({} of {}) revoked",
                    row.public_id,
                    row.role,
                    row.scope.as_deref().unwrap_or("every scope")
                )?;
                Ok(())
            }
        }
    })
}
