//! The target policy: URLs, refused ranges, the allow-list, names resolved.

use std::net::IpAddr;

use crosswalk_events::{TargetError, TargetPolicy, WebhookUrl, parse_range};
use proptest::prelude::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn loopback_allowed() -> TargetPolicy {
    TargetPolicy::new().allow(parse_range("127.0.0.0/8").unwrap())
}

#[test]
fn internal_addresses_are_refused_by_default() {
    let policy = TargetPolicy::new();
    for refused in [
        "127.0.0.1",
        "127.255.0.9",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.0.1",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "ff02::1",
        "255.255.255.255",
        "100.64.0.1",
        // IPv4 written as IPv6 reaches the IPv4 address.
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "64:ff9b::a00:1",
    ] {
        let refusal = policy.check_ip(ip(refused)).expect_err(refused);
        let text = refusal.to_string();
        assert!(
            text.starts_with(&ip(refused).to_string()) && text.contains("--webhook-allow"),
            "{text}"
        );
    }
    let metadata = policy
        .check_ip(ip("169.254.169.254"))
        .unwrap_err()
        .to_string();
    assert!(metadata.contains("metadata"), "{metadata}");
}

#[test]
fn public_addresses_are_allowed() {
    let policy = TargetPolicy::new();
    for allowed in [
        "8.8.8.8",
        "1.1.1.1",
        "172.32.0.1",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "192.0.2.1",
    ] {
        assert_eq!(policy.check_ip(ip(allowed)), Ok(()), "{allowed}");
    }
}

#[test]
fn the_allow_list_opens_exactly_its_ranges() {
    let policy = TargetPolicy::new()
        .allow(parse_range("127.0.0.0/8").unwrap())
        .allow(parse_range("10.20.0.0/16").unwrap())
        .allow(parse_range("::1").unwrap());
    for allowed in [
        "127.0.0.1",
        "127.9.9.9",
        "10.20.3.4",
        "::1",
        "::ffff:127.0.0.1",
    ] {
        assert_eq!(policy.check_ip(ip(allowed)), Ok(()), "{allowed}");
    }
    for refused in ["10.21.0.1", "192.168.0.1", "169.254.169.254", "fe80::1"] {
        assert!(policy.check_ip(ip(refused)).is_err(), "{refused}");
    }
}

#[test]
fn allow_ranges_are_read_as_cidr_with_a_useful_error() {
    assert_eq!(parse_range("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
    assert_eq!(
        parse_range(" 127.0.0.1 ").unwrap().to_string(),
        "127.0.0.1/32"
    );
    assert_eq!(parse_range("::1").unwrap().to_string(), "::1/128");
    for bad in ["10.0.0.0/33", "localhost", "", "10.0.0/8", "::1/129"] {
        let error = parse_range(bad).unwrap_err().to_string();
        assert!(
            error.contains("CIDR") && error.contains("127.0.0.0/8"),
            "{error}"
        );
    }
}

#[test]
fn urls_must_be_plain_http_or_https() {
    let policy = TargetPolicy::new();
    assert!(
        policy
            .check_url("https://hooks.example.com/crosswalk?team=7")
            .is_ok()
    );
    assert!(policy.check_url("http://8.8.8.8:8080/x").is_ok());
    type Expected = fn(&TargetError) -> bool;
    let cases: [(&str, Expected); 8] = [
        (
            "ftp://example.com/x",
            |e| matches!(e, TargetError::Scheme(s) if s == "ftp"),
        ),
        ("file:///etc/passwd", |e| {
            matches!(e, TargetError::Scheme(_))
        }),
        ("https://user:pw@example.com/", |e| {
            matches!(e, TargetError::UserInfo)
        }),
        ("https://token@example.com/", |e| {
            matches!(e, TargetError::UserInfo)
        }),
        ("https://example.com/#frag", |e| {
            matches!(e, TargetError::Fragment)
        }),
        ("not a url", |e| matches!(e, TargetError::Invalid(_))),
        ("http://127.0.0.1:9000/", |e| {
            matches!(e, TargetError::Refused(_))
        }),
        ("http://[::ffff:169.254.169.254]/latest/meta-data", |e| {
            matches!(e, TargetError::Refused(_))
        }),
    ];
    for (url, expected) in cases {
        let error = policy.check_url(url).unwrap_err();
        assert!(expected(&error), "{url}: {error:?}");
    }
    let long = format!("https://example.com/{}", "a".repeat(2100));
    assert_eq!(policy.check_url(&long), Err(TargetError::TooLong));
    // Hosts in other spellings of loopback are the same address to `url`.
    for spelled in [
        "http://0x7f.1/",
        "http://2130706433/",
        "http://127.1/",
        "http://[0:0:0:0:0:0:0:1]/",
    ] {
        assert!(
            matches!(policy.check_url(spelled), Err(TargetError::Refused(_))),
            "{spelled}"
        );
    }
}

#[test]
fn a_url_knows_its_host_and_port() {
    let url = WebhookUrl::parse("https://[::1]/x").unwrap();
    assert_eq!(url.host(), "::1");
    assert_eq!(url.ip(), Some(ip("::1")));
    assert_eq!(url.port(), 443);
    let named = WebhookUrl::parse("http://Hooks.Example.com:8080/a?b=c").unwrap();
    assert_eq!(named.host(), "hooks.example.com");
    assert_eq!(named.ip(), None);
    assert_eq!(named.port(), 8080);
}

#[tokio::test]
async fn localhost_is_refused_when_stored_unless_loopback_is_allowed() {
    let error = TargetPolicy::new()
        .check("http://localhost:9000/hook")
        .await
        .unwrap_err();
    let TargetError::AllRefused { host, refused } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(host, "localhost");
    assert!(
        refused.iter().all(|r| r.address.is_loopback()),
        "{refused:?}"
    );
    assert!(error.to_string().contains("loopback"), "{error}");

    let url = loopback_allowed()
        .check("http://localhost:9000/hook")
        .await
        .unwrap();
    assert_eq!(url.host(), "localhost");
    // Only the allowed addresses of a name are connected to: here 127.0.0.1, not ::1.
    let addresses = loopback_allowed().resolve("localhost", 9000).await.unwrap();
    assert!(
        addresses.iter().all(|a| a.is_ipv4() && a.is_loopback()),
        "{addresses:?}"
    );
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_reported() {
    let error = TargetPolicy::new()
        .check("https://no-such-host.invalid/hook")
        .await
        .unwrap_err();
    assert!(matches!(error, TargetError::Unresolved { .. }), "{error:?}");
}

proptest! {
    /// A refused IPv4 address stays refused however it is written as IPv6.
    #[test]
    fn ipv4_in_ipv6_clothing_is_judged_as_ipv4(a: u8, b: u8, c: u8, d: u8) {
        let policy = TargetPolicy::new();
        let v4 = std::net::Ipv4Addr::new(a, b, c, d);
        let verdict = policy.check_ip(IpAddr::V4(v4)).is_ok();
        prop_assert_eq!(policy.check_ip(IpAddr::V6(v4.to_ipv6_mapped())).is_ok(), verdict);
        let nat64: std::net::Ipv6Addr = format!("64:ff9b::{a:02x}{b:02x}:{c:02x}{d:02x}").parse().unwrap();
        prop_assert_eq!(policy.check_ip(IpAddr::V6(nat64)).is_ok(), verdict);
    }

    #[test]
    fn url_checks_never_panic(text in ".{0,80}", tail in "[a-z0-9:/@#?.%\\[\\]-]{0,40}") {
        let policy = TargetPolicy::new();
        let _ = policy.check_url(&text);
        let _ = policy.check_url(&format!("http://{tail}"));
        let _ = parse_range(&text);
    }
}
