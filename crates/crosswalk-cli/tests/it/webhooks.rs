//! Webhooks end to end (issue 21): the real `crosswalk serve` delivering to a real receiver on
//! loopback (a plain TCP listener in the test, answering as each test says), subscriptions made
//! with the real `crosswalk webhook` command. Retry delays are made short with the server's
//! hidden settings; nothing is timed: every wait polls with a generous deadline.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crosswalk_events::{Event, EventType, VerifyError, WebhookSecret, verify};
use serde_json::Value;

use crate::util::Dir;

const SOURCE: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,JIRAUSER1,jdoe,John.Doe@acme.com,,John Doe,John,Doe,true,internal,,,,
account,JIRAUSER2,msmith,maria@acme.com,,Maria Smith,Maria,Smith,true,ldap,,,,
";

const DESTINATION: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,5b10a001,,john.doe@acme.com,,John Doe,John,Doe,true,,true,,,
account,5b10a002,,maria@acme.com,,Maria Smith,Maria,Smith,true,,true,,,
";

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) id: String,
    pub(crate) timestamp: String,
    pub(crate) signature: String,
    pub(crate) body: Vec<u8>,
    /// The status the receiver answered.
    pub(crate) status: u16,
}

/// A receiver on loopback. `answer(n)` gives the status of the n-th request (0-based);
/// `hold` keeps the first request's connection open without answering until released.
pub(crate) struct Receiver {
    pub(crate) url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub(crate) fn start(
        answer: impl Fn(usize) -> u16 + Send + Sync + 'static,
        hold_first: Option<Arc<AtomicUsize>>,
    ) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a receiver");
        let url = format!("http://{}/hooks/crosswalk", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        let answer = Arc::new(answer);
        let count = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (log, answer, count, hold) = (
                    log.clone(),
                    answer.clone(),
                    count.clone(),
                    hold_first.clone(),
                );
                std::thread::spawn(move || {
                    serve_connection(stream, &log, answer.as_ref(), &count, hold.as_deref())
                });
            }
        });
        Receiver { url, received }
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The events answered 2xx, once each (deduplicated by messageId), in arrival order.
    pub(crate) fn accepted(&self) -> Vec<Event> {
        let mut seen = HashSet::new();
        self.received()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .map(|r| Event::from_body(&r.body).expect("an event body"))
            .filter(|e| seen.insert(e.message_id))
            .collect()
    }
}

fn serve_connection(
    stream: TcpStream,
    log: &Mutex<Vec<Received>>,
    answer: &(dyn Fn(usize) -> u16 + Send + Sync),
    count: &AtomicUsize,
    hold: Option<&AtomicUsize>,
) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone a stream"));
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end().to_string();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
            }
        }
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let length: usize = get("content-length").parse().unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let n = count.fetch_add(1, Ordering::SeqCst);
        if n == 0
            && let Some(hold) = hold
        {
            // Hold the first request (the server is killed meanwhile): never answered.
            hold.store(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_secs(120));
            return;
        }
        let status = answer(n);
        log.lock().unwrap().push(Received {
            id: get("webhook-id"),
            timestamp: get("webhook-timestamp"),
            signature: get("webhook-signature"),
            body,
            status,
        });
        let response = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// The server process; killed if a test ends before it is.
struct Server {
    child: Child,
}

impl Server {
    fn start(dir: &Dir, extra: &[&str]) -> Server {
        let mut args = vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--webhook-first-delay-ms",
            "50",
            "--webhook-max-delay-ms",
            "200",
            "--webhook-poll-ms",
            "50",
            "--webhook-timeout-ms",
            "2000",
            "--webhook-lease-ms",
            "3000",
        ];
        args.extend_from_slice(extra);
        let mut child = dir
            .command()
            .args(&args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start crosswalk serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the address line");
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_default()
            .to_string();
        assert!(!address.is_empty(), "no address in {line:?}");
        Server { child }
    }

    fn kill9(mut self) {
        let status = std::process::Command::new("kill")
            .args(["-9", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn setup() -> Dir {
    let dir = Dir::new();
    dir.write("source.csv", SOURCE);
    dir.write("destination.csv", DESTINATION);
    dir.ok(&[
        "scope",
        "create",
        "acme",
        "--source-label",
        "jira-server https://jira.acme.local",
        "--destination-label",
        "cloud",
    ]);
    dir
}

/// `crosswalk webhook add`: the subscription's id and secret, as printed once.
pub(crate) fn subscribe(dir: &Dir, url: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec![
        "webhook",
        "add",
        "--scope",
        "acme",
        url,
        "--webhook-allow",
        "127.0.0.0/8",
    ];
    args.extend_from_slice(extra);
    let out = dir.ok(&args);
    let field = |name: &str| {
        out.lines()
            .find_map(|line| line.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("no {name} in {out}"))
    };
    (field("id:"), field("secret:"))
}

pub(crate) fn run(dir: &Dir, job: &str) {
    dir.ok(&[
        "run",
        "--scope",
        "acme",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "--job",
        job,
    ]);
}

/// Polls until `done` holds, for up to two minutes.
pub(crate) fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[test]
fn events_arrive_signed_verifiable_and_forgeries_and_replays_are_detected() {
    let dir = setup();
    let receiver = Receiver::start(|_| 200, None);
    let (_, secret) = subscribe(&dir, &receiver.url, &[]);
    let _server = Server::start(&dir, &["--webhook-allow", "127.0.0.0/8"]);
    run(&dir, "wave-1");
    // A second run of the job: job.started on its own, before the run.
    dir.write(
        "source.csv",
        &SOURCE.replace(
            "account,JIRAUSER2,msmith,maria@acme.com,,Maria Smith,Maria,Smith,true,ldap,,,,\n",
            "",
        ),
    );
    run(&dir, "wave-1");
    let expected = [
        EventType::JobStarted,
        EventType::MappingsChanged,
        EventType::JobCompleted,
        EventType::JobStarted,
        EventType::MappingsChanged,
        EventType::JobCompleted,
    ];
    wait_for("the runs' events", || {
        receiver.accepted().len() >= expected.len()
    });
    let events = receiver.accepted();
    assert_eq!(
        events.iter().map(Event::event_type).collect::<Vec<_>>(),
        expected
    );
    assert!(events.iter().all(|e| e.scope == "acme"));

    let key = WebhookSecret::parse(&secret).expect("a whsec_ secret");
    let tolerance = Duration::from_secs(300);
    for request in receiver.received() {
        assert_eq!(
            request.id,
            Event::from_body(&request.body)
                .unwrap()
                .message_id
                .to_string()
        );
        verify(
            &key,
            &request.id,
            &request.timestamp,
            &request.signature,
            &request.body,
            now(),
            tolerance,
        )
        .expect("a genuine delivery verifies");
    }
    // A forged body, a signature under another key, and a replay much later all fail.
    let request = &receiver.received()[0];
    let mut forged = request.body.clone();
    forged.extend_from_slice(b" ");
    assert_eq!(
        verify(
            &key,
            &request.id,
            &request.timestamp,
            &request.signature,
            &forged,
            now(),
            tolerance
        ),
        Err(VerifyError::NoMatchingSignature)
    );
    let other = WebhookSecret::generate().unwrap();
    assert_eq!(
        verify(
            &other,
            &request.id,
            &request.timestamp,
            &request.signature,
            &request.body,
            now(),
            tolerance
        ),
        Err(VerifyError::NoMatchingSignature)
    );
    assert!(matches!(
        verify(
            &key,
            &request.id,
            &request.timestamp,
            &request.signature,
            &request.body,
            now() + 3600,
            tolerance
        ),
        Err(VerifyError::TooOld(_))
    ));

    // The Python check documented in docs/webhooks.md accepts the genuine request and
    // refuses the forgery.
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/webhooks.md"
    ))
    .unwrap();
    let python = docs
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the Python example");
    let script = format!(
        "{python}\nimport sys, json\nh = json.loads(sys.argv[2])\nbody = open(sys.argv[3], 'rb').read()\ntry:\n    verify_crosswalk_webhook(sys.argv[1], h, body)\n    print('valid')\nexcept ValueError as e:\n    print('invalid:', e)\n"
    );
    let script_path = dir.write("verify.py", &script);
    let headers = serde_json::json!({"Webhook-Id": request.id, "Webhook-Timestamp": request.timestamp, "Webhook-Signature": request.signature}).to_string();
    let check = |body: &[u8]| {
        let body_path = dir.path().join("body.json");
        std::fs::write(&body_path, body).unwrap();
        let out = std::process::Command::new("python3")
            .arg(&script_path)
            .arg(&secret)
            .arg(&headers)
            .arg(&body_path)
            .output()
            .expect("python3 runs");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // The request may be a few seconds old: the documented tolerance is five minutes.
    assert_eq!(check(&request.body), "valid");
    assert!(check(&forged).starts_with("invalid"), "{}", check(&forged));
}

#[test]
fn a_receiver_that_fails_then_recovers_gets_every_event_in_order() {
    let dir = setup();
    // The first five requests fail (500), then every one succeeds.
    let receiver = Receiver::start(|n| if n < 5 { 500 } else { 200 }, None);
    subscribe(&dir, &receiver.url, &[]);
    let _server = Server::start(&dir, &["--webhook-allow", "127.0.0.0/8"]);
    for job in ["wave-1", "wave-2", "wave-3"] {
        run(&dir, job);
    }
    // Each run: job.started, then (wave-1 only: the later waves find the same mappings
    // already there) mappings.changed, then job.completed.
    wait_for("seven events accepted", || receiver.accepted().len() >= 7);
    let accepted = receiver.accepted();
    let jobs: Vec<(EventType, String)> = accepted
        .iter()
        .map(|e| {
            let value: Value = serde_json::to_value(e).unwrap();
            (
                e.event_type(),
                value["data"]["job"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    let mut expected = Vec::new();
    for job in ["wave-1", "wave-2", "wave-3"] {
        expected.push((EventType::JobStarted, job.to_string()));
        if job == "wave-1" {
            expected.push((EventType::MappingsChanged, job.to_string()));
        }
        expected.push((EventType::JobCompleted, job.to_string()));
    }
    assert_eq!(jobs, expected, "every event, in commit order");
    // The first event was retried until the receiver recovered: five failures, then accepted.
    let first = accepted[0].message_id.to_string();
    let attempts: Vec<u16> = receiver
        .received()
        .iter()
        .filter(|r| r.id == first)
        .map(|r| r.status)
        .collect();
    assert_eq!(attempts, [500, 500, 500, 500, 500, 200]);
    let deliveries = dir.ok(&[
        "webhook",
        "deliveries",
        "--scope",
        "acme",
        "--state",
        "delivered",
        "--limit",
        "100",
    ]);
    assert_eq!(
        deliveries
            .lines()
            .filter(|l| l.contains(" delivered "))
            .count(),
        7,
        "{deliveries}"
    );
}

#[test]
fn killing_the_server_mid_delivery_loses_nothing() {
    let dir = setup();
    let held = Arc::new(AtomicUsize::new(0));
    let receiver = Receiver::start(|_| 200, Some(held.clone()));
    subscribe(&dir, &receiver.url, &[]);
    let server = Server::start(&dir, &["--webhook-allow", "127.0.0.0/8"]);
    run(&dir, "wave-1");
    // The first delivery is in flight (the receiver holds it): kill -9 the server.
    wait_for("a delivery in flight", || held.load(Ordering::SeqCst) == 1);
    server.kill9();
    // Another server takes over once the dead one's lease has run out.
    let _next = Server::start(&dir, &["--webhook-allow", "127.0.0.0/8"]);
    wait_for("the run's three events", || receiver.accepted().len() >= 3);
    let types: Vec<EventType> = receiver.accepted().iter().map(Event::event_type).collect();
    assert_eq!(
        types,
        [
            EventType::JobStarted,
            EventType::MappingsChanged,
            EventType::JobCompleted
        ]
    );
}

#[test]
fn a_disallowed_target_is_refused() {
    let dir = setup();
    let receiver = Receiver::start(|_| 200, None);
    // Without an allowed range, a loopback URL is not even subscribed.
    let refused = dir.fails(&["webhook", "add", "--scope", "acme", &receiver.url]);
    assert!(refused.contains("--webhook-allow"), "{refused}");
    // Subscribed while allowed, but the server does not allow it: the delivery fails at once,
    // with the reason, and nothing reaches the receiver.
    subscribe(&dir, &receiver.url, &["--events", "job.completed"]);
    let _server = Server::start(&dir, &[]);
    run(&dir, "wave-1");
    wait_for("the delivery marked failed", || {
        dir.ok(&[
            "webhook",
            "deliveries",
            "--scope",
            "acme",
            "--state",
            "failed",
        ])
        .contains("FAILED")
    });
    let listed = dir.ok(&[
        "webhook",
        "deliveries",
        "--scope",
        "acme",
        "--state",
        "failed",
    ]);
    assert!(
        listed.contains("refused") && listed.contains("job.completed"),
        "{listed}"
    );
    assert!(receiver.received().is_empty());
    let subscriptions = dir.ok(&["webhook", "list", "--scope", "acme"]);
    assert!(
        subscriptions.contains("events: job.completed") && subscriptions.contains("1 failed"),
        "{subscriptions}"
    );
}

#[test]
fn two_servers_on_postgresql_deliver_each_event_once() {
    let Some(database) = crate::postgres::fresh_database() else {
        return;
    };
    let dir = Dir::on_database(&database.url);
    dir.write("source.csv", SOURCE);
    dir.write("destination.csv", DESTINATION);
    dir.ok(&[
        "scope",
        "create",
        "acme",
        "--source-label",
        "jira-server https://jira.acme.local",
        "--destination-label",
        "cloud",
    ]);
    let receiver = Receiver::start(|_| 200, None);
    // Several subscriptions, so both servers have work at once.
    for _ in 0..3 {
        subscribe(&dir, &receiver.url, &[]);
    }
    let _a = Server::start(&dir, &["--webhook-allow", "127.0.0.0/8"]);
    let _b = Server::start(&dir, &["--webhook-allow", "127.0.0.0/8"]);
    for job in ["wave-1", "wave-2", "wave-3", "wave-4"] {
        run(&dir, job);
    }
    // wave-1: 3 events, each later wave 2 (nothing changes), to each of 3 subscriptions.
    wait_for("every delivery", || receiver.received().len() >= 27);
    wait_for("nothing pending", || {
        dir.ok(&[
            "webhook",
            "deliveries",
            "--scope",
            "acme",
            "--state",
            "pending",
        ])
        .contains("no deliveries")
    });
    let received = receiver.received();
    assert_eq!(received.len(), 27, "each event once to each subscription");
    let mut per_event = std::collections::HashMap::new();
    for request in &received {
        *per_event.entry(request.id.clone()).or_insert(0) += 1;
    }
    assert_eq!(per_event.len(), 9, "nine events");
    assert!(
        per_event.values().all(|&n| n == 3),
        "each event once per subscription: {per_event:?}"
    );
}

#[test]
fn the_webhook_bench_delivers_every_event_and_reports_rate_and_delay() {
    let dir = Dir::new();
    let out = dir.ok(&[
        "bench",
        "--webhooks",
        "40",
        "--webhook-subscriptions",
        "2",
        "--webhook-rate",
        "100",
        "--webhook-poll-ms",
        "20",
    ]);
    assert!(
        out.contains("throughput: 80 deliveries (40 events × 2 subscription(s))")
            && out.contains("events delivered/s"),
        "{out}"
    );
    assert!(
        out.contains("delay from commit to delivery, 40 events at 100/s: p50 ")
            && out.contains("p99 "),
        "{out}"
    );
    // Its store was temporary: nothing is left in the folder it ran in.
    assert!(!dir.store().exists());
    let refused = dir.fails(&["bench", "--webhook-rate", "10"]);
    assert!(refused.contains("--webhooks"), "{refused}");
}
