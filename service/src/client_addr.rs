//! The client's address behind reverse proxies. Behind the usual proxy every request comes from
//! the proxy's address, so a per-address rate limit would lock every resident out at once. The
//! client address is taken from the one forwarding header the operator's proxy writes
//! (`X-Forwarded-For` by default, or `Forwarded`, RFC 7239) only when the peer is a proxy the
//! operator trusts, reading the chain from the right and skipping trusted proxies: a client
//! cannot pick its own address by sending the header itself, nor by sending the other header,
//! which a proxy passes on untouched.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The reverse proxies whose forwarding headers are believed (`trusted_proxies` in the
/// configuration: addresses or networks such as `10.0.0.0/8`, `::1`), and the header they
/// write (`forwarded_header`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>, ForwardedHeader);

/// The forwarding header the trusted proxies write; the other one is never read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For` (nginx's `$proxy_add_x_forwarded_for`, HAProxy's `option forwardfor`).
    #[default]
    #[serde(rename = "x-forwarded-for")]
    XForwardedFor,
    /// `Forwarded` (RFC 7239).
    #[serde(rename = "forwarded")]
    Forwarded,
}

/// A `trusted_proxies` entry that is neither an address nor a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("trusted_proxies: {0:?} is not an IP address or network (such as 10.0.0.0/8)")]
pub struct TrustedProxiesError(pub String);

impl TrustedProxies {
    /// Parses the configured entries.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, TrustedProxiesError> {
        entries
            .iter()
            .map(|e| {
                let e = e.as_ref().trim();
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| TrustedProxiesError(e.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|nets| TrustedProxies(nets, ForwardedHeader::default()))
    }

    /// The same proxies, writing `header` instead.
    pub fn with_header(self, header: ForwardedHeader) -> Self {
        TrustedProxies(self.0, header)
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client's address for a request from `peer` with `headers`: `peer` itself unless it is
    /// a trusted proxy; then the rightmost address of the forwarding chain that is not a trusted
    /// proxy (the last hop a trusted proxy saw). A missing or unreadable chain gives `peer`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let chain = forwarded_chain(headers, self.1);
        let Some(chain) = chain else {
            return peer;
        };
        let mut client = peer;
        for hop in chain.iter().rev() {
            match hop {
                Some(ip) if self.contains(*ip) => client = *ip,
                Some(ip) => return *ip,
                // An obfuscated or unreadable hop: the last trusted address seen is the client.
                None => return client,
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses as IPv4, so `::ffff:10.0.0.1` matches `10.0.0.0/8`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The addresses of the forwarding chain in `header`, leftmost (the original client) first;
/// every header line, in order. `None` for a hop that is not an address (`unknown`, `_hidden`).
fn forwarded_chain(headers: &HeaderMap, header: ForwardedHeader) -> Option<Vec<Option<IpAddr>>> {
    if header == ForwardedHeader::Forwarded {
        let forwarded: Vec<&str> = headers
            .get_all("forwarded")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if forwarded.is_empty() {
            return None;
        }
        let hops = forwarded
            .iter()
            .flat_map(|line| line.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| parse_node(v.trim().trim_matches('"')))
            })
            .collect();
        return Some(hops);
    }
    let xff: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if xff.is_empty() {
        return None;
    }
    Some(
        xff.iter()
            .flat_map(|line| line.split(','))
            .map(|hop| parse_node(hop.trim()))
            .collect(),
    )
}

/// An address as forwarding headers write it: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`,
/// `[2001:db8::1]:4711`, `2001:db8::1`.
fn parse_node(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest
            .split_once(']')
            .and_then(|(ip, _)| ip.parse::<IpAddr>().ok())
            .map(canonical);
    }
    text.rsplit_once(':')
        .and_then(|(ip, _)| ip.parse::<IpAddr>().ok())
        .map(canonical)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn the_client_address_comes_from_headers_only_through_trusted_proxies() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8", "::1"]).expect("parse");
        let proxy = ip("10.0.0.2");
        let xff = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(proxies.client(proxy, &xff), ip("203.0.113.7"));
        // A proxy that writes X-Forwarded-For passes a client's own `Forwarded` on: never read.
        let smuggled = headers(&[
            ("forwarded", "for=192.0.2.66"),
            ("x-forwarded-for", "203.0.113.7"),
        ]);
        assert_eq!(proxies.client(proxy, &smuggled), ip("203.0.113.7"));
        let only_forwarded = headers(&[("forwarded", "for=192.0.2.66")]);
        assert_eq!(proxies.client(proxy, &only_forwarded), proxy);
        // A client that is not a proxy cannot choose its address.
        assert_eq!(proxies.client(ip("198.51.100.9"), &xff), ip("198.51.100.9"));
        assert_eq!(TrustedProxies::default().client(proxy, &xff), proxy);
        // A forged left part of the chain is ignored: the rightmost untrusted hop counts.
        let forged = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7, 10.0.0.5")]);
        assert_eq!(proxies.client(proxy, &forged), ip("203.0.113.7"));
        let lines = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "203.0.113.8"),
        ]);
        assert_eq!(proxies.client(proxy, &lines), ip("203.0.113.8"));
        // RFC 7239 when the proxies write it, with ports, quotes and IPv6; then X-Forwarded-For
        // is the client's and is not read.
        let proxies = proxies.with_header(ForwardedHeader::Forwarded);
        assert_eq!(proxies.client(proxy, &smuggled), ip("192.0.2.66"));
        assert_eq!(proxies.client(proxy, &xff), proxy);
        let fwd = headers(&[(
            "forwarded",
            "for=1.2.3.4;proto=https, for=\"[2001:db8::7]:4711\";by=10.0.0.2",
        )]);
        assert_eq!(proxies.client(proxy, &fwd), ip("2001:db8::7"));
        let hidden = headers(&[("forwarded", "for=_hidden, for=10.0.0.9")]);
        assert_eq!(proxies.client(proxy, &hidden), ip("10.0.0.9"));
        assert_eq!(proxies.client(proxy, &HeaderMap::new()), proxy);
        let proxies = proxies.with_header(ForwardedHeader::XForwardedFor);
        assert_eq!(
            proxies.client(ip("::ffff:10.0.0.2"), &xff),
            ip("203.0.113.7"),
            "an IPv4-mapped peer is the IPv4 proxy"
        );
        assert_eq!(
            proxies.client(
                ip("::1"),
                &headers(&[("x-forwarded-for", "203.0.113.7:5555")])
            ),
            ip("203.0.113.7")
        );
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(&["proxy.example"]).is_err());
    }
}
