//! Load generator for the mapping API, run as a second process against a real `crosswalk serve`
//! on loopback (the figures in BENCHMARKS.md). The URL and token come from the environment,
//! never argv, so the token stays out of `ps`:
//!
//! ```sh
//! crosswalk generate --accounts 1000000 --out DIR        # ~440 MB; the store gets ~2 GB
//! crosswalk run --store S -s DIR/source.csv -d DIR/destination.csv -p DIR/policy.toml --job bench
//! crosswalk token create --store S --scope default --role reader > token.out
//! crosswalk serve --listen 127.0.0.1:18080 --store S &
//! CROSSWALK_URL=http://127.0.0.1:8080 CROSSWALK_TOKEN=cw_... CROSSWALK_SCOPE=default \
//!   cargo run --release -p crosswalk-server --example api_load
//! ```
//!
//! Optional: `BENCH_CONNECTIONS` (concurrent single-key lookers, default 8),
//! `BENCH_LOOKUP_SECONDS` (default 10), `BENCH_FIND_CALLS` (default 20), `BENCH_PARTS`
//! (default `paging,find,find_full,lookups`), `BENCH_KEYS_FILE` (a JSON array of source keys
//! to ask for instead of those the native paging, which then does not run, gathers).
//!
//! It measures: paging through every `identity:user` mapping at 10,000 a page, natively and
//! through the compatible route (each page's time; page 1 against page 100); batch find of
//! 10,000 keys (p50/p99), with the default brief answers and with `view=full` (whole
//! mappings); single-key finds (brief) per second with p50/p99 latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::seq::IndexedRandom;
use serde_json::Value;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const PAGE_SIZE: usize = 10_000;
const FIND_KEYS: usize = 10_000;

struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
    scope: String,
}

impl Api {
    async fn get(&self, path_and_query: &str) -> Result<Value, BoxError> {
        let response = self
            .client
            .get(format!("{}{}", self.base, path_and_query))
            .bearer_auth(&self.token)
            .send()
            .await?;
        read_json(response, path_and_query).await
    }

    async fn post(&self, path_and_query: &str, body: &Value) -> Result<Value, BoxError> {
        let response = self
            .client
            .post(format!("{}{}", self.base, path_and_query))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(body)?)
            .send()
            .await?;
        read_json(response, path_and_query).await
    }
}

async fn read_json(response: reqwest::Response, what: &str) -> Result<Value, BoxError> {
    let status = response.status();
    let bytes = response.bytes().await?;
    if !status.is_success() {
        return Err(format!("{what}: HTTP {status}: {}", String::from_utf8_lossy(&bytes)).into());
    }
    Ok(serde_json::from_slice(&bytes)?)
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

/// The value at quantile `q` (0..=1) of `samples`, sorted in place; nearest rank.
fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort_unstable();
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1]
}

fn summary(label: &str, samples: &mut [Duration]) {
    let total: Duration = samples.iter().sum();
    println!(
        "{label}: {} calls, mean {:.1} ms, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        samples.len(),
        millis(total) / samples.len().max(1) as f64,
        millis(quantile(samples, 0.50)),
        millis(quantile(samples, 0.99)),
        millis(quantile(samples, 1.0)),
    );
}

fn page_report(label: &str, started: Instant, page_times: &mut [Duration], rows: usize) {
    let elapsed = started.elapsed();
    let page_1 = page_times.first().copied().unwrap_or_default();
    let page_100 = page_times.get(99).copied();
    println!(
        "{label}: {rows} rows in {} pages, {:.1} s total (with this client reading the JSON); page 1 {:.1} ms, page 100 {}",
        page_times.len(),
        elapsed.as_secs_f64(),
        millis(page_1),
        page_100.map_or("(fewer than 100 pages)".to_owned(), |d| format!(
            "{:.1} ms",
            millis(d)
        )),
    );
    summary(&format!("{label} per page"), page_times);
}

/// Pages through every identity:user mapping natively, timing each page; answers the source
/// keys seen (the keys the find benchmarks ask for).
async fn page_native(api: &Api) -> Result<Vec<String>, BoxError> {
    let mut keys = Vec::new();
    let mut page_times = Vec::new();
    let mut after: Option<String> = None;
    let started = Instant::now();
    loop {
        let mut path = format!(
            "/api/v1/scopes/{}/namespaces/identity:user/mappings?limit={PAGE_SIZE}",
            api.scope
        );
        if let Some(after) = &after {
            path.push_str("&after=");
            path.push_str(&urlencode(after));
        }
        let page_started = Instant::now();
        let page = api.get(&path).await?;
        page_times.push(page_started.elapsed());
        let rows = page["mappings"]
            .as_array()
            .ok_or("a native page without `mappings`")?;
        keys.extend(
            rows.iter()
                .filter_map(|row| row["source_key"].as_str().map(str::to_owned)),
        );
        if page["last_page"].as_bool() == Some(true) {
            break;
        }
        after = Some(
            page["next"]
                .as_str()
                .ok_or("a page that is not the last without `next`")?
                .to_owned(),
        );
    }
    page_report("native paging", started, &mut page_times, keys.len());
    Ok(keys)
}

/// Pages through the compatible route, with any transfer id of the scope.
async fn page_compatible(api: &Api, transfer_id: &str) -> Result<(), BoxError> {
    let mut page_times = Vec::new();
    let mut items = 0usize;
    let mut last_entity: Option<String> = None;
    let started = Instant::now();
    loop {
        let mut path = format!(
            "/rest/atlassian-connect/1/migration/mapping/{transfer_id}/page?namespace=identity:user&pageSize={PAGE_SIZE}"
        );
        if let Some(last) = &last_entity {
            path.push_str("&lastEntity=");
            path.push_str(&urlencode(last));
        }
        let page_started = Instant::now();
        let page = api.get(&path).await?;
        page_times.push(page_started.elapsed());
        items += page["items"].as_object().map_or(0, serde_json::Map::len);
        if page["meta"]["hasNext"].as_bool() != Some(true) {
            break;
        }
        last_entity = Some(
            page["meta"]["lastEntity"]
                .as_str()
                .ok_or("hasNext without lastEntity")?
                .to_owned(),
        );
    }
    page_report(
        "compatible paging (items are key forms)",
        started,
        &mut page_times,
        items,
    );
    Ok(())
}

fn urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `view`: `brief` (the default answer) or `full` (each found key's whole mapping).
async fn batch_find(api: &Api, keys: &[String], calls: u64, view: &str) -> Result<(), BoxError> {
    let path = format!(
        "/api/v1/scopes/{}/namespaces/identity:user/find?view={view}",
        api.scope
    );
    let mut rng = rand::rng();
    let mut times = Vec::new();
    for _ in 0..calls {
        let chosen: Vec<&String> = keys
            .choose_multiple(&mut rng, FIND_KEYS.min(keys.len()))
            .collect();
        let body = serde_json::json!({ "keys": chosen });
        let started = Instant::now();
        let answer = api.post(&path, &body).await?;
        times.push(started.elapsed());
        let answered = answer["answers"].as_array().map_or(0, Vec::len);
        if answered != chosen.len() {
            return Err(format!("asked {} keys, got {answered} answers", chosen.len()).into());
        }
    }
    summary(
        &format!(
            "batch find of {} keys, view={view}",
            FIND_KEYS.min(keys.len())
        ),
        &mut times,
    );
    Ok(())
}

async fn single_lookups(
    api: Arc<Api>,
    keys: Arc<Vec<String>>,
    connections: u64,
    seconds: u64,
) -> Result<(), BoxError> {
    let path = Arc::new(format!(
        "/api/v1/scopes/{}/namespaces/identity:user/find",
        api.scope
    ));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut lookers = Vec::new();
    for looker in 0..connections {
        let (api, keys, path) = (api.clone(), keys.clone(), path.clone());
        lookers.push(tokio::spawn(async move {
            let mut times = Vec::new();
            // Each looker walks the keys from its own offset, a different key every call.
            let mut index = (looker as usize * 7919) % keys.len();
            while Instant::now() < deadline {
                let body = serde_json::json!({ "keys": [keys[index]] });
                index = (index + 104_729) % keys.len();
                let call_started = Instant::now();
                api.post(&path, &body).await?;
                times.push(call_started.elapsed());
            }
            Ok::<_, BoxError>(times)
        }));
    }
    let mut times = Vec::new();
    for looker in lookers {
        times.extend(looker.await??);
    }
    let elapsed = started.elapsed();
    println!(
        "single-key find, {connections} connections: {:.0} lookups/s over {:.1} s",
        times.len() as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    summary("single-key find latency", &mut times);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let base = env_required("CROSSWALK_URL")?
        .trim_end_matches('/')
        .to_owned();
    let token = env_required("CROSSWALK_TOKEN")?;
    let scope = std::env::var("CROSSWALK_SCOPE").unwrap_or_else(|_| "default".to_owned());
    let connections = env_number("BENCH_CONNECTIONS", 8)?.max(1);
    let seconds = env_number("BENCH_LOOKUP_SECONDS", 10)?.max(1);
    let find_calls = env_number("BENCH_FIND_CALLS", 20)?.max(1);

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
        .pool_max_idle_per_host(connections as usize + 1)
        .timeout(Duration::from_secs(120))
        .build()?;
    let api = Arc::new(Api {
        client,
        base,
        token,
        scope,
    });

    let parts =
        std::env::var("BENCH_PARTS").unwrap_or_else(|_| "paging,find,find_full,lookups".into());
    let part = |name: &str| parts.split(',').any(|p| p.trim() == name);

    // The native paging also gathers the keys the finds ask for; `BENCH_KEYS_FILE` (a JSON
    // array of source keys) gives them instead, for runs that measure finds alone.
    let keys: Vec<String> = match std::env::var("BENCH_KEYS_FILE") {
        Ok(path) => serde_json::from_slice(&std::fs::read(&path)?)?,
        Err(_) => page_native(&api).await?,
    };
    if keys.is_empty() {
        return Err(format!("scope {} has no identity:user mappings", api.scope).into());
    }
    if part("paging") {
        page_compatible_of_first_job(&api).await?;
    }
    if part("find") {
        batch_find(&api, &keys, find_calls, "brief").await?;
    }
    if part("find_full") {
        batch_find(&api, &keys, find_calls, "full").await?;
    }
    if part("lookups") {
        single_lookups(api, Arc::new(keys), connections, seconds).await?;
    }
    Ok(())
}

async fn page_compatible_of_first_job(api: &Api) -> Result<(), BoxError> {
    let jobs = api
        .get(&format!("/api/v1/scopes/{}/jobs", api.scope))
        .await?;
    match jobs
        .as_array()
        .and_then(|jobs| jobs.first())
        .and_then(|job| job["transfer_id"].as_str())
    {
        Some(transfer_id) => page_compatible(api, transfer_id).await?,
        None => println!("compatible paging: skipped, no job with a transfer_id in {jobs}"),
    }
    Ok(())
}
