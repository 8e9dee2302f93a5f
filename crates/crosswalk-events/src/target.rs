//! Where webhooks may go.
//!
//! A webhook URL is chosen by whoever holds an admin token, and the server then sends
//! requests to it from inside the network: without a check, a subscription could reach
//! internal services or a cloud metadata endpoint (server-side request forgery). So a URL
//! is checked when a subscription is stored ([`TargetPolicy::check`]) and again when each
//! connection is made: the delivery client's resolver ([`crate::deliver`]) resolves the
//! host, keeps only the addresses this policy allows and connects to those, so a name that
//! resolves differently later (DNS rebinding) cannot slip past.
//!
//! By default every public address is allowed and the ranges in [`REFUSED_RANGES`] are
//! refused; `--webhook-allow CIDR` (repeatable) allows a range anyway, for example
//! `127.0.0.0/8` for a receiver on the same machine.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;
use url::{Host, Url};

/// The ranges refused unless allowed, each with the reason a refusal names.
pub const REFUSED_RANGES: &[(&str, &str)] = &[
    ("0.0.0.0/8", "unspecified (\"this network\")"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    (
        "169.254.0.0/16",
        "link-local (cloud metadata services live here)",
    ),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved (broadcast included)"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fc00::/7", "unique local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (deprecated, private)"),
    ("ff00::/8", "multicast"),
];

/// The longest webhook URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// The allow-list, over the built-in refusals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    allowed: Vec<IpNet>,
}

/// A `--webhook-allow` value that is not a CIDR range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not an IP range: write it as CIDR, e.g. 127.0.0.0/8 or ::1/128 (a bare address means just it)"
)]
pub struct InvalidRange {
    pub text: String,
}

/// Why a URL cannot be a webhook target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the webhook URL is not a valid URL: {0}")]
    Invalid(String),
    #[error("the webhook URL is longer than {MAX_URL_LEN} characters")]
    TooLong,
    #[error("the webhook URL must start with http:// or https://, not {0}://")]
    Scheme(String),
    #[error(
        "the webhook URL must not carry a user name or password; a receiver checks the signature instead"
    )]
    UserInfo,
    #[error("the webhook URL has no host")]
    NoHost,
    #[error("the webhook URL must not have a #fragment (it is never sent)")]
    Fragment,
    #[error("{0}")]
    Refused(RefusedAddress),
    #[error("the webhook host {host} resolves to no address: {reason}")]
    Unresolved { host: String, reason: String },
    #[error("every address of the webhook host {host} is refused: {}", list(.refused))]
    AllRefused {
        host: String,
        refused: Vec<RefusedAddress>,
    },
}

/// One address the policy refuses, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{address} is {reason} ({range}); allow it with --webhook-allow {range}")]
pub struct RefusedAddress {
    pub address: IpAddr,
    pub range: IpNet,
    pub reason: &'static str,
}

fn list(refused: &[RefusedAddress]) -> String {
    refused
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A URL that passed the syntax checks: http(s), a host, no user info, no fragment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    pub fn parse(text: &str) -> Result<WebhookUrl, TargetError> {
        if text.len() > MAX_URL_LEN {
            return Err(TargetError::TooLong);
        }
        let url = Url::parse(text).map_err(|error| TargetError::Invalid(error.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(TargetError::Scheme(url.scheme().to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TargetError::UserInfo);
        }
        if url.fragment().is_some() {
            return Err(TargetError::Fragment);
        }
        match url.host() {
            None => Err(TargetError::NoHost),
            Some(Host::Domain("")) => Err(TargetError::NoHost),
            Some(_) => Ok(WebhookUrl(url)),
        }
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host as written (a name, or an address without brackets).
    pub fn host(&self) -> String {
        match self.0.host() {
            Some(Host::Domain(name)) => name.to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            None => String::new(),
        }
    }

    /// The address, when the host is one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.0.host()? {
            Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            Host::Domain(_) => None,
        }
    }

    pub fn port(&self) -> u16 {
        self.0.port_or_known_default().unwrap_or(80)
    }
}

impl std::fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl FromStr for WebhookUrl {
    type Err = TargetError;

    fn from_str(text: &str) -> Result<WebhookUrl, TargetError> {
        WebhookUrl::parse(text)
    }
}

/// Reads one `--webhook-allow` value: a CIDR range, or a bare address (just it).
pub fn parse_range(text: &str) -> Result<IpNet, InvalidRange> {
    let trimmed = text.trim();
    let range = match trimmed.parse::<IpNet>() {
        Ok(range) => range,
        Err(_) => match trimmed.parse::<IpAddr>() {
            Ok(address) => IpNet::from(address),
            Err(_) => {
                return Err(InvalidRange {
                    text: text.to_owned(),
                });
            }
        },
    };
    // `10.1.2.3/8` means `10.0.0.0/8`.
    Ok(range.trunc())
}

impl TargetPolicy {
    /// The built-in refusals and nothing allowed beyond public addresses.
    pub fn new() -> TargetPolicy {
        TargetPolicy::default()
    }

    /// Also allows `range`, even where the built-in list refuses it.
    pub fn allow(mut self, range: IpNet) -> TargetPolicy {
        if !self.allowed.contains(&range) {
            self.allowed.push(range);
        }
        self
    }

    /// The ranges allowed beyond public addresses.
    pub fn allowed(&self) -> &[IpNet] {
        &self.allowed
    }

    /// Whether the server may connect to `address`. An IPv4 address written as IPv6
    /// (`::ffff:127.0.0.1`, `::127.0.0.1`, or NAT64 `64:ff9b::7f00:1`) is judged as the
    /// IPv4 address it reaches.
    pub fn check_ip(&self, address: IpAddr) -> Result<(), RefusedAddress> {
        let candidates = [Some(address), embedded_ipv4(address).map(IpAddr::V4)];
        let candidates = candidates.iter().flatten();
        if candidates
            .clone()
            .any(|ip| self.allowed.iter().any(|range| range.contains(ip)))
        {
            return Ok(());
        }
        for ip in candidates {
            if let Some((range, reason)) = refused_range(*ip) {
                return Err(RefusedAddress {
                    address,
                    range,
                    reason,
                });
            }
        }
        Ok(())
    }

    /// The syntax checks, and the address check when the host is an address. A host
    /// name is checked when it is resolved: see [`TargetPolicy::check`].
    pub fn check_url(&self, text: &str) -> Result<WebhookUrl, TargetError> {
        let url = WebhookUrl::parse(text)?;
        if let Some(ip) = url.ip() {
            self.check_ip(ip).map_err(TargetError::Refused)?;
        }
        Ok(url)
    }

    /// Everything [`TargetPolicy::check_url`] does, then resolves a host name and asks that
    /// at least one of its addresses is allowed (the ones refused are never connected
    /// to). For storing a subscription: the delivery checks again at connect time.
    pub async fn check(&self, text: &str) -> Result<WebhookUrl, TargetError> {
        let url = self.check_url(text)?;
        if url.ip().is_none() {
            self.resolve(&url.host(), url.port()).await?;
        }
        Ok(url)
    }

    /// Resolves `host` and returns the addresses allowed, or why there are none.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<IpAddr>, TargetError> {
        let resolved: Vec<IpAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|error| TargetError::Unresolved {
                host: host.to_owned(),
                reason: error.to_string(),
            })?
            .map(|socket| socket.ip())
            .collect();
        if resolved.is_empty() {
            return Err(TargetError::Unresolved {
                host: host.to_owned(),
                reason: "no addresses".to_owned(),
            });
        }
        let mut allowed = Vec::new();
        let mut refused = Vec::new();
        for ip in resolved {
            match self.check_ip(ip) {
                Ok(()) if !allowed.contains(&ip) => allowed.push(ip),
                Ok(()) => {}
                Err(why) if !refused.contains(&why) => refused.push(why),
                Err(_) => {}
            }
        }
        if allowed.is_empty() {
            Err(TargetError::AllRefused {
                host: host.to_owned(),
                refused,
            })
        } else {
            Ok(allowed)
        }
    }
}

/// The refused range holding `ip`, with its reason.
fn refused_range(ip: IpAddr) -> Option<(IpNet, &'static str)> {
    refused_ranges()
        .iter()
        .find(|(range, _)| range.contains(&ip))
        .copied()
}

fn refused_ranges() -> &'static [(IpNet, &'static str)] {
    static RANGES: std::sync::OnceLock<Vec<(IpNet, &'static str)>> = std::sync::OnceLock::new();
    RANGES.get_or_init(|| {
        REFUSED_RANGES
            .iter()
            .filter_map(|(range, reason)| Some((range.parse().ok()?, *reason)))
            .collect()
    })
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`, deprecated, but some stacks still route it) and the NAT64
/// well-known prefix (`64:ff9b::a.b.c.d`).
fn embedded_ipv4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else { return None };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let segments = v6.segments();
    let compatible = segments[..6].iter().all(|&s| s == 0)
        && v6 != Ipv6Addr::UNSPECIFIED
        && v6 != Ipv6Addr::LOCALHOST;
    let nat64 = segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    let low = || Ipv4Addr::from(u32::try_from(u128::from(v6) & 0xffff_ffff).unwrap_or(0));
    (compatible || nat64).then(low)
}
