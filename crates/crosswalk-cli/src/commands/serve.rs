//! `crosswalk serve` (the mapping API, crosswalk-server) and `crosswalk token` (its bearer
//! tokens: made, listed, revoked on the store the server reads).

use std::net::SocketAddr;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use crosswalk_server::ServerState;

use crate::cli::StoreArgs;

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address and port to listen on (port 0: any free port; the one taken is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDRESS:PORT")]
    pub(crate) listen: SocketAddr,
    #[command(flatten)]
    pub(crate) store: StoreArgs,
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
    #[arg(long, required_unless_present = "instance_admin", conflicts_with = "instance_admin")]
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
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the server's runtime")?;
    runtime.block_on(async {
        crosswalk_server::init_logging();
        let database = args.store.database()?;
        let state = ServerState::open(&database).await?;
        let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener.local_addr().context("cannot read the address listened on")?;
        outln!("listening on http://{address} (store {}); Ctrl-C stops", database.describe())?;
        let served = crosswalk_server::serve(listener, state.clone(), crosswalk_server::shutdown_signal()).await;
        state.close().await;
        served.context("the server stopped on an error")
    })
}

fn who() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_default();
    format!("cli:{}", if user.trim().is_empty() { "unknown" } else { user.trim() })
}

pub(crate) fn token(command: TokenCommand) -> Result<()> {
    super::block_on(async {
        match command {
            TokenCommand::Create(args) => {
                let state = ServerState::open(&args.store.database()?).await?;
                let role = crosswalk_store::scope::Role::parse(&args.role)?;
                let scope = if args.instance_admin { None } else { args.scope.as_deref() };
                let issued =
                    crosswalk_server::tokens::issue(state.tokens.as_ref(), scope, role, &args.label, &who(), time::OffsetDateTime::now_utc())
                        .await
                        .map_err(|e| anyhow::anyhow!("cannot create the token: {e}"))?;
                state.close().await;
                outln!("{}", issued.token)?;
                eprintln!(
                    "{} token {} for {} made. It is shown this once: only its hash is stored.",
                    issued.row.role,
                    issued.row.public_id,
                    scope.map_or("every scope (instance admin)".to_string(), |s| format!("scope {s:?}"))
                );
                Ok(())
            }
            TokenCommand::List(args) => {
                let state = ServerState::open(&args.store.database()?).await?;
                let tokens = state.tokens.tokens(args.scope.as_deref()).await?;
                state.close().await;
                let rfc3339 = |at: time::OffsetDateTime| at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
                for token in tokens {
                    let revoked = token.revoked_at.map_or(String::new(), |at| format!(" revoked {}", rfc3339(at)));
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
                let row = state.tokens.revoke_token(&args.public_id, time::OffsetDateTime::now_utc()).await;
                state.close().await;
                let row = row?;
                outln!("token {} ({} of {}) revoked", row.public_id, row.role, row.scope.as_deref().unwrap_or("every scope"))?;
                Ok(())
            }
        }
    })
}
