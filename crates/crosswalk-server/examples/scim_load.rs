//! Load generator for the SCIM service (`/scim/v2`, issue 19), run as a second process
//! against a real `crosswalk serve` on loopback (the SCIM rows of BENCHMARKS.md). It sends
//! what Entra and Okta send: lookups before create (`userName eq`, Entra's
//! `emails[type eq "work"].value eq`, `externalId eq`) and creates (`POST /Users`), over
//! several connections. The URL and token come from the environment, never argv, so the
//! token stays out of `ps`:
//!
//! ```sh
//! crosswalk generate --accounts 1000000 --out gen
//! crosswalk run --store s.sqlite -s gen/source.csv -d gen/destination.csv -p gen/policy.toml --job bench
//! crosswalk token create --store s.sqlite --scope default --role writer > token.out
//! crosswalk serve --listen 127.0.0.1:18080 --store s.sqlite &
//! CROSSWALK_URL=http://127.0.0.1:18080 CROSSWALK_TOKEN=cw_... BENCH_ACCOUNTS=gen/destination.csv \
//!   cargo run --release -p crosswalk-server --example scim_load
//! ```
//!
//! `BENCH_ACCOUNTS` is the destination directory the scope's run stored (a Crosswalk CSV
//! directory: `type,id,username,email,…`): its accounts are the migrated SCIM users looked up.
//! Optional: `BENCH_CONNECTIONS` (default 4), `BENCH_CREATES` (users created, default
//! 20,000), `BENCH_LOOKUP_SECONDS` (per kind of lookup, default 10), `BENCH_SAMPLE`
//! (accounts looked up, drawn at random from the file, default 100,000), `BENCH_TAG` (in the
//! created users' names, so that runs do not collide; default the time), `BENCH_ONLY`
//! (`lookups` or `creates` to run one half).
//!
//! It prints, for each phase, requests per second and p50/p99 latency (each request from
//! sending to having the whole body). The first request seeds the scope's SCIM view from
//! its latest run if nothing has yet; its time is printed alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::seq::IndexedRandom;
use serde_json::{Value, json};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Scim {
    client: reqwest::Client,
    base: String,
    bearer: String,
}

/// One answer: its status and body.
struct Reply {
    status: u16,
    body: Vec<u8>,
}

impl Reply {
    /// The reply, or an error naming the request, the status and the body when the status is
    /// not `expected`.
    fn expect(self, expected: u16, request: &str) -> Result<Reply, BoxError> {
        if self.status == expected {
            return Ok(self);
        }
        Err(format!(
            "{request}: HTTP {}: {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        )
        .into())
    }
}

impl Scim {
    async fn get(&self, path_and_query: &str) -> Result<Reply, BoxError> {
        let response = self
            .client
            .get(format!("{}{}", self.base, path_and_query))
            .header(reqwest::header::AUTHORIZATION, &self.bearer)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok(Reply {
            status,
            body: response.bytes().await?.to_vec(),
        })
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Reply, BoxError> {
        let response = self
            .client
            .post(format!("{}{}", self.base, path))
            .header(reqwest::header::AUTHORIZATION, &self.bearer)
            .header(reqwest::header::CONTENT_TYPE, "application/scim+json")
            .body(serde_json::to_vec(body)?)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok(Reply {
            status,
            body: response.bytes().await?.to_vec(),
        })
    }
}

fn env_required(name: &str) -> Result<String, BoxError> {
    std::env::var(name).map_err(|_| format!("set {name} in the environment").into())
}

fn env_number(name: &str, default: u64) -> Result<u64, BoxError> {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .map_err(|_| format!("{name}={text:?} is not a whole number").into()),
        Err(_) => Ok(default),
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The value at quantile `q` (0..=1) of sorted `samples`; nearest rank.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn report(label: &str, elapsed: Duration, samples: &mut [Duration]) {
    samples.sort_unstable();
    println!(
        "{label}: {} requests in {:.1} s = {:.0}/s; p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms",
        samples.len(),
        elapsed.as_secs_f64(),
        samples.len() as f64 / elapsed.as_secs_f64(),
        millis(quantile(samples, 0.50)),
        millis(quantile(samples, 0.99)),
        millis(quantile(samples, 1.0)),
    );
}

/// `text` percent-encoded for a query string.
fn urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A SCIM string literal: quotes and backslashes escaped.
fn literal(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// A migrated account: its id and the address (or user name) a provider looks it up by.
struct Account {
    id: String,
    name: String,
}

fn read_accounts(path: &str, sample: usize) -> Result<Vec<Account>, BoxError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .comment(Some(b'#'))
        .from_path(path)
        .map_err(|e| format!("{path}: {e}"))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("{path}: no `{name}` column; pass a Crosswalk CSV directory"))
    };
    let (kind, id, username, email) = (
        column("type")?,
        column("id")?,
        column("username")?,
        column("email")?,
    );
    let mut all = Vec::new();
    for record in reader.records() {
        let record = record?;
        if record.get(kind) != Some("account") {
            continue;
        }
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let name = if field(email).is_empty() {
            field(username)
        } else {
            field(email)
        };
        if name.is_empty() || field(id).is_empty() {
            continue;
        }
        all.push(Account {
            id: field(id).to_string(),
            name: name.to_string(),
        });
    }
    let total = all.len();
    let mut rng = rand::rng();
    let chosen: Vec<usize> = (0..total)
        .collect::<Vec<_>>()
        .choose_multiple(&mut rng, sample.min(total))
        .copied()
        .collect();
    let mut keep = vec![false; total];
    for i in chosen {
        keep[i] = true;
    }
    let sampled: Vec<Account> = all
        .into_iter()
        .zip(keep)
        .filter_map(|(account, keep)| keep.then_some(account))
        .collect();
    println!(
        "{path}: {total} accounts, {} looked up (drawn at random)",
        sampled.len()
    );
    Ok(sampled)
}

/// How many results a list answered (its `totalResults`), read without parsing the body.
fn total_results(body: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(body).ok()?;
    let rest = &text[text.find("\"totalResults\":")? + "\"totalResults\":".len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Runs `connections` workers for `seconds`, each sending `request(i)` for i = its share of
/// 0, 1, 2 …; answers the latencies and how many answers `check` refused.
async fn timed_lookups<F, Fut>(
    connections: usize,
    seconds: u64,
    request: F,
) -> Result<(Duration, Vec<Duration>, usize), BoxError>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<bool, BoxError>> + Send,
{
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (request, next) = (request.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut refused = 0usize;
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                if !request(i).await? {
                    refused += 1;
                }
                times.push(sent.elapsed());
            }
            Ok::<_, BoxError>((times, refused))
        }));
    }
    let mut times = Vec::new();
    let mut refused = 0;
    for worker in workers {
        let (t, r) = worker.await??;
        times.extend(t);
        refused += r;
    }
    Ok((started.elapsed(), times, refused))
}

async fn lookups(
    scim: &Arc<Scim>,
    label: &str,
    connections: usize,
    seconds: u64,
    filters: Arc<Vec<(String, String)>>,
) -> Result<(), BoxError> {
    let scim = scim.clone();
    let (elapsed, mut times, refused) = timed_lookups(connections, seconds, move |i| {
        let (scim, filters) = (scim.clone(), filters.clone());
        async move {
            let (path, id) = &filters[i % filters.len()];
            let reply = scim.get(path).await?.expect(200, path)?;
            // One result, the account looked up.
            let needle = format!("\"id\":{}", literal(id));
            Ok(total_results(&reply.body) == Some(1)
                && reply
                    .body
                    .windows(needle.len())
                    .any(|w| w == needle.as_bytes()))
        }
    })
    .await?;
    report(
        &format!("{label}, {connections} connections"),
        elapsed,
        &mut times,
    );
    if refused > 0 {
        println!("  {refused} answers were not exactly the account looked up");
    }
    Ok(())
}

fn lookup_path(filter: &str) -> String {
    format!("/Users?filter={}", urlencode(filter))
}

/// The user Entra or Okta creates (RFC 7643's core schema, a work address, an externalId).
fn new_user(tag: &str, i: usize) -> Value {
    let name = format!("scimload.{tag}.{i}@bench.example");
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "externalId": format!("load-{tag}-{i}"),
        "userName": name,
        "active": true,
        "displayName": format!("Load {i} Bench"),
        "name": {"givenName": "Load", "familyName": format!("Bench{i}")},
        "emails": [{"primary": true, "type": "work", "value": name}],
    })
}

async fn creates(
    scim: &Arc<Scim>,
    connections: usize,
    count: usize,
    tag: &str,
) -> Result<(), BoxError> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (scim, next, tag) = (scim.clone(), next.clone(), tag.to_string());
        workers.push(tokio::spawn(async move {
            let mut times = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let body = new_user(&tag, i);
                let sent = Instant::now();
                let reply = scim.post("/Users", &body).await?;
                times.push(sent.elapsed());
                reply.expect(201, "POST /Users")?;
            }
            Ok::<_, BoxError>(times)
        }));
    }
    let mut times = Vec::new();
    for worker in workers {
        times.extend(worker.await??);
    }
    report(
        &format!("POST /Users (new users), {connections} connections"),
        started.elapsed(),
        &mut times,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let base = format!(
        "{}/scim/v2",
        env_required("CROSSWALK_URL")?.trim_end_matches('/')
    );
    let bearer = format!("Bearer {}", env_required("CROSSWALK_TOKEN")?);
    let accounts_path = env_required("BENCH_ACCOUNTS")?;
    let connections = env_number("BENCH_CONNECTIONS", 4)?.max(1) as usize;
    let create_count = env_number("BENCH_CREATES", 20_000)? as usize;
    let seconds = env_number("BENCH_LOOKUP_SECONDS", 10)?.max(1);
    let sample = env_number("BENCH_SAMPLE", 100_000)?.max(1) as usize;
    let tag = std::env::var("BENCH_TAG").unwrap_or_else(|_| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs().to_string())
            .unwrap_or_default()
    });
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();

    // Plain HTTP on loopback; reqwest is built without a default TLS provider, so give it one.
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .pool_max_idle_per_host(connections + 1)
        // The first request may seed a million users.
        .timeout(Duration::from_secs(1800))
        .build()?;
    let scim = Arc::new(Scim {
        client,
        base,
        bearer,
    });

    let accounts = read_accounts(&accounts_path, sample)?;
    let first = accounts.first().ok_or("no accounts to look up")?;
    let started = Instant::now();
    scim.get(&lookup_path(&format!(
        "userName eq {}",
        literal(&first.name)
    )))
    .await?
    .expect(200, "the first lookup")?;
    println!(
        "first request (seeds the scope's SCIM view if it is not yet): {:.1} s",
        started.elapsed().as_secs_f64()
    );

    if only != "creates" {
        let by_name: Vec<(String, String)> = accounts
            .iter()
            .map(|a| {
                (
                    lookup_path(&format!("userName eq {}", literal(&a.name))),
                    a.id.clone(),
                )
            })
            .collect();
        lookups(
            &scim,
            "GET /Users?filter=userName eq (migrated accounts, Okta's lookup)",
            connections,
            seconds,
            Arc::new(by_name),
        )
        .await?;
        let by_email: Vec<(String, String)> = accounts
            .iter()
            .filter(|a| a.name.contains('@'))
            .map(|a| {
                (
                    lookup_path(&format!(
                        "emails[type eq \"work\"].value eq {}",
                        literal(&a.name)
                    )),
                    a.id.clone(),
                )
            })
            .collect();
        lookups(
            &scim,
            "GET /Users?filter=emails[type eq \"work\"].value eq (migrated, Entra's lookup)",
            connections,
            seconds,
            Arc::new(by_email),
        )
        .await?;
    }
    if only != "lookups" && create_count > 0 {
        creates(&scim, connections, create_count, &tag).await?;
        // The users just created, looked up by the externalId their provider gave them.
        let mut by_external = Vec::with_capacity(create_count);
        for i in 0..create_count {
            let filter = format!("externalId eq {}", literal(&format!("load-{tag}-{i}")));
            by_external.push(lookup_path(&filter));
        }
        let scim2 = scim.clone();
        let paths = Arc::new(by_external);
        let (elapsed, mut times, refused) = timed_lookups(connections, seconds, move |i| {
            let (scim, paths) = (scim2.clone(), paths.clone());
            async move {
                let reply = scim.get(&paths[i % paths.len()]).await?;
                Ok(reply.status == 200 && total_results(&reply.body) == Some(1))
            }
        })
        .await?;
        report(
            &format!(
                "GET /Users?filter=externalId eq (users created above), {connections} connections"
            ),
            elapsed,
            &mut times,
        );
        if refused > 0 {
            println!("  {refused} answers were not exactly one user");
        }
    }
    Ok(())
}
