//! The client's address, for throttling and audit: the TCP peer, or, behind a trusted reverse
//! proxy, the nearest hop the proxies vouch for.

use axum::http::HeaderMap;

/// The client's address, put on every request by the server loop.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::IpAddr);

/// The client's address for throttling and audit: the TCP peer, unless the peer is one of the
/// `trusted` reverse proxies; then the nearest hop named by `Forwarded: for=` (RFC 7239) or,
/// without it, `X-Forwarded-For`, that is not itself a trusted proxy. Hops further from us
/// than that were written by the client and are not believed. A hop that cannot be read
/// (`unknown`, an obfuscated name) ends the walk: the proxy's own address is used.
pub fn client_address(
    peer: Option<ClientAddr>,
    headers: &HeaderMap,
    trusted: &[std::net::IpAddr],
) -> String {
    let Some(ClientAddr(peer)) = peer else {
        return "unknown".to_owned();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then_some(value.trim())
            })
        })
        .collect();
    let hops: Vec<&str> = if forwarded.is_empty() {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect()
    } else {
        forwarded
    };
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) if trusted.contains(&ip) => continue,
            Some(ip) => return ip.to_string(),
            None => break,
        }
    }
    peer.to_string()
}

/// An address of a forwarding header: `192.0.2.1`, `"192.0.2.1:4711"`, `"[2001:db8::1]:80"`.
fn parse_hop(raw: &str) -> Option<std::net::IpAddr> {
    let raw = raw.trim().trim_matches('"');
    if let Ok(ip) = raw.parse() {
        return Some(ip);
    }
    if let Some(rest) = raw.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (host, port) = raw.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>()
        .ok()
        .map(std::net::IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::{ClientAddr, client_address};
    use axum::http::{HeaderMap, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(*name, HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn forwarding_headers_are_believed_only_from_trusted_proxies() {
        let proxy: std::net::IpAddr = "10.0.0.5"
            .parse()
            .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
        let inner: std::net::IpAddr = "10.0.0.6"
            .parse()
            .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
        let trusted = [proxy, inner];
        let from = |ip: std::net::IpAddr| Some(ClientAddr(ip));
        let spoof = headers(&[("x-forwarded-for", "203.0.113.9")]);
        // From an untrusted peer the header is ignored.
        let outsider: std::net::IpAddr = "198.51.100.2".parse().unwrap_or(proxy);
        assert_eq!(
            client_address(from(outsider), &spoof, &trusted),
            "198.51.100.2"
        );
        assert_eq!(client_address(from(proxy), &spoof, &[]), "10.0.0.5");
        // From a trusted proxy: the nearest untrusted hop; what the client wrote further left
        // is not believed.
        let chain = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.0.0.6")]);
        assert_eq!(client_address(from(proxy), &chain, &trusted), "203.0.113.9");
        let split = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "203.0.113.7"),
        ]);
        assert_eq!(client_address(from(proxy), &split, &trusted), "203.0.113.7");
        // RFC 7239 wins over X-Forwarded-For; ports, quotes and IPv6 brackets are read.
        let both = headers(&[
            (
                "forwarded",
                "for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.6",
            ),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(client_address(from(proxy), &both, &trusted), "2001:db8::7");
        let port = headers(&[("forwarded", "for=\"192.0.2.60:47011\"")]);
        assert_eq!(client_address(from(proxy), &port, &trusted), "192.0.2.60");
        // Unreadable hops and missing headers fall back to the proxy itself.
        let unknown = headers(&[
            ("forwarded", "for=unknown"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(client_address(from(proxy), &unknown, &trusted), "10.0.0.5");
        assert_eq!(
            client_address(from(proxy), &HeaderMap::new(), &trusted),
            "10.0.0.5"
        );
        assert_eq!(client_address(None, &chain, &trusted), "unknown");
    }
}
