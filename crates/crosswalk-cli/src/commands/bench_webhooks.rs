//! `crosswalk bench --webhooks N`: webhook delivery as `crosswalk serve` does it, to a receiver
//! on loopback in this process. The store is a new SQLite file in a temporary folder (removed
//! after), or the database `--webhook-database` names. The worker is the server's own
//! (`crosswalk_server::webhooks::spawn_worker`) with the server's default settings, except
//! the poll interval when `--webhook-poll-ms` sets it.
//!
//! Two phases, each on a scope of its own:
//! 1. **Throughput.** N events are committed first (one transaction each, as the application
//!    layer writes them), then the worker starts; events delivered a second is N times the
//!    subscriptions over the time until the receiver has them all.
//! 2. **Delay.** The worker running, events are committed at `--webhook-rate` a second for ten
//!    seconds (at most N), and each one's delay is the time from its commit returning to the
//!    receiver reading its request; p50, p99 and the longest are printed.
//!
//! The receiver answers 204 at once and checks nothing; the load average is printed before
//! and after, since the receiver, the worker and the store share the machine's cores.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use crosswalk_app::{App, Caller, Database};
use crosswalk_events::{
    DeliveryConfig, Event, EventFilter, EventPayload, MappingsChanged, TargetPolicy, parse_range,
};
use crosswalk_server::ServerState;
use crosswalk_server::webhooks::{WorkerConfig, spawn_worker};
use crosswalk_store::scope::NewScope;
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::cli::BenchArgs;

/// Arrival times by message id (`webhook-id`), and how many requests came.
#[derive(Default)]
struct Arrivals {
    first: HashMap<String, Instant>,
    requests: usize,
}

type Log = Arc<Mutex<Arrivals>>;

pub(crate) fn bench(events: usize, args: &BenchArgs) -> Result<()> {
    if events == 0 {
        bail!("--webhooks 0: give the number of events to deliver, e.g. --webhooks 2000");
    }
    if args.webhook_subscriptions == 0 {
        bail!("--webhook-subscriptions 0: at least one subscription receives the events");
    }
    if args.webhook_rate == 0 {
        bail!("--webhook-rate 0: give the events committed a second while the delay is measured");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the benchmark's runtime")?;
    let temporary = std::env::temp_dir().join(format!(
        "crosswalk-bench-webhooks-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let database = match &args.webhook_database {
        Some(url) => Database::parse_url(url)?,
        None => {
            std::fs::create_dir_all(&temporary)
                .with_context(|| format!("cannot make {}", temporary.display()))?;
            Database::Sqlite(temporary.join("bench.sqlite"))
        }
    };
    let result = runtime.block_on(run(events, args, &database));
    if args.webhook_database.is_none() {
        let _ = std::fs::remove_dir_all(&temporary);
    }
    result
}

async fn run(events: usize, args: &BenchArgs, database: &Database) -> Result<()> {
    let state = ServerState::open(database).await?;
    let app = state.app.clone();
    let log: Log = Arc::default();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot listen on loopback for the receiver")?;
    let url = format!("http://{}/hooks", listener.local_addr()?);
    let receiver = tokio::spawn(receive(listener, log.clone()));
    let policy = TargetPolicy::default().allow(parse_range("127.0.0.0/8")?);
    let defaults = WorkerConfig::default();
    let config = WorkerConfig {
        delivery: DeliveryConfig {
            policy: policy.clone(),
            ..defaults.delivery.clone()
        },
        poll: Duration::from_millis(args.webhook_poll_ms.max(1)),
        ..defaults
    };
    let subscriptions = args.webhook_subscriptions;
    outln!(
        "webhooks: store {}, {} subscription(s) to a receiver on loopback, worker polling every {} ms; load average {}",
        database.describe(),
        subscriptions,
        config.poll.as_millis(),
        load_average()
    )?;
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();

    // 1. Throughput: a backlog of committed events, then the worker.
    let scope = format!("bench-throughput-{tag}");
    prepare(&app, &scope, &url, subscriptions, &policy).await?;
    let started = Instant::now();
    for _ in 0..events {
        app.announce(&scope, &[event(&scope)]).await?;
    }
    let committed = started.elapsed();
    outln!(
        "committed {events} events in {:.2?} ({:.0} commits/s)",
        committed,
        events as f64 / committed.as_secs_f64()
    )?;
    let expected = events * subscriptions;
    let started = Instant::now();
    let worker = spawn_worker(app.clone(), config.clone())?;
    let drained = wait_for(&log, expected, Duration::from_secs(600)).await;
    let elapsed = started.elapsed();
    worker.abort();
    let _ = worker.await;
    if !drained {
        bail!(
            "the receiver got {} of {expected} deliveries in 10 minutes",
            log.lock().unwrap().requests
        );
    }
    outln!(
        "throughput: {expected} deliveries ({events} events × {subscriptions} subscription(s)) in {:.2?}: {:.0} events delivered/s",
        elapsed,
        expected as f64 / elapsed.as_secs_f64()
    )?;

    // 2. Delay: events committed at a steady rate while the worker runs.
    let scope = format!("bench-delay-{tag}");
    prepare(&app, &scope, &url, subscriptions, &policy).await?;
    *log.lock().unwrap() = Arrivals::default();
    let paced = events.min(args.webhook_rate as usize * 10);
    let interval = Duration::from_secs_f64(1.0 / f64::from(args.webhook_rate));
    let worker = spawn_worker(app.clone(), config)?;
    let mut commits: Vec<(String, Instant)> = Vec::with_capacity(paced);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for _ in 0..paced {
        ticker.tick().await;
        let event = event(&scope);
        let id = event.message_id.to_string();
        app.announce(&scope, &[event]).await?;
        commits.push((id, Instant::now()));
    }
    let drained = wait_for(&log, paced * subscriptions, Duration::from_secs(600)).await;
    worker.abort();
    let _ = worker.await;
    receiver.abort();
    if !drained {
        bail!("not every paced event was delivered in 10 minutes");
    }
    let arrivals = log.lock().unwrap();
    let mut delays: Vec<Duration> = commits
        .iter()
        .filter_map(|(id, at)| {
            arrivals
                .first
                .get(id)
                .map(|arrived| arrived.saturating_duration_since(*at))
        })
        .collect();
    delays.sort();
    let percentile = |p: f64| {
        let index = ((delays.len() as f64 * p).ceil() as usize).clamp(1, delays.len()) - 1;
        delays[index]
    };
    outln!(
        "delay from commit to delivery, {paced} events at {}/s: p50 {:.1} ms, p99 {:.1} ms, longest {:.1} ms",
        args.webhook_rate,
        millis(percentile(0.50)),
        millis(percentile(0.99)),
        millis(delays[delays.len() - 1])
    )?;
    outln!("load average after: {}", load_average())?;
    if args.webhook_database.is_some() {
        outln!("(scopes bench-throughput-{tag} and bench-delay-{tag} are left in that database)")?;
    }
    state.close().await;
    Ok(())
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A new scope with `subscriptions` subscriptions to `url`, every event type.
async fn prepare(
    app: &App,
    scope: &str,
    url: &str,
    subscriptions: usize,
    policy: &TargetPolicy,
) -> Result<()> {
    let caller = Caller::cli("bench");
    app.create_scope(
        &caller,
        &NewScope {
            name: scope.to_owned(),
            source_label: "bench".into(),
            destination_label: "bench".into(),
        },
    )
    .await?;
    for _ in 0..subscriptions {
        app.add_webhook(&caller, scope, url, &EventFilter::all(), policy)
            .await?;
    }
    Ok(())
}

/// A `mappings.changed` of the size a run's batch gives.
fn event(scope: &str) -> Event {
    Event::new(
        scope,
        OffsetDateTime::now_utc(),
        EventPayload::MappingsChanged(MappingsChanged {
            from_cursor: 1041,
            to_cursor: 1042,
            changes: 1,
            namespaces: BTreeMap::from([("identity:user".to_owned(), 1)]),
            affected_items: Some(12),
            job: Some("wave-1".into()),
            run: Some(2),
            actor: "cli:bench".into(),
        }),
    )
}

/// Waits until the receiver has `count` requests; `false` after `patience`.
async fn wait_for(log: &Log, count: usize, patience: Duration) -> bool {
    let deadline = Instant::now() + patience;
    while log.lock().unwrap().requests < count {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    true
}

/// The receiver: HTTP/1.1 with keep-alive, each request answered 204 once read.
async fn receive(listener: TcpListener, log: Log) {
    while let Ok((stream, _)) = listener.accept().await {
        let log = log.clone();
        tokio::spawn(async move {
            let _ = connection(stream, &log).await;
        });
    }
}

async fn connection(stream: tokio::net::TcpStream, log: &Log) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut length = 0usize;
        let mut id = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("webhook-id") {
                    id = value.trim().to_owned();
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        let now = Instant::now();
        {
            let mut arrivals = log.lock().unwrap();
            arrivals.requests += 1;
            arrivals.first.entry(id).or_insert(now);
        }
        write
            .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            .await?;
    }
}

/// `/proc/loadavg`'s three averages, or "unknown".
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".into())
}
