//! Where a delivery may go. A webhook's host must not resolve to a loopback, private,
//! link-local or otherwise internal address (so that no client can make the server call its
//! own network, or a cloud's metadata service at 169.254.169.254), unless
//! `WEBHOOK_ALLOW_PRIVATE_NETWORKS` says so. The check runs when a webhook is saved and again
//! inside the delivery client's resolver, on the addresses it then connects to, so a name that
//! changes its answer after being saved (DNS rebinding) is caught too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

/// How long saving a webhook waits for its host name to resolve.
const LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Which addresses deliveries may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Destinations {
    /// Public addresses only.
    #[default]
    PublicOnly,
    /// Any address (`WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`, for local development and tests).
    Any,
}

impl Destinations {
    /// Whether a delivery may connect to `address`.
    pub fn admits(self, address: IpAddr) -> bool {
        self == Self::Any || is_public(address)
    }

    /// The addresses of `url`'s host that deliveries may connect to; an error naming why when
    /// there are none.
    pub async fn check(self, url: &Url) -> Result<Vec<SocketAddr>, String> {
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses: Vec<SocketAddr> = match url.host() {
            Some(Host::Ipv4(address)) => vec![SocketAddr::new(address.into(), port)],
            Some(Host::Ipv6(address)) => vec![SocketAddr::new(address.into(), port)],
            Some(Host::Domain(name)) => {
                let lookup = tokio::net::lookup_host((name, port));
                tokio::time::timeout(LOOKUP_TIMEOUT, lookup)
                    .await
                    .map_err(|_| format!("its host {name} did not resolve within 5 seconds"))?
                    .map_err(|error| format!("its host {name} does not resolve ({error})"))?
                    .collect()
            }
            None => return Err("must name a host".into()),
        };
        self.admitted(addresses)
    }

    /// Those of `addresses` deliveries may connect to; an error naming why when there are
    /// none.
    pub fn admitted(self, addresses: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, String> {
        let (admitted, refused): (Vec<_>, Vec<_>) = addresses
            .into_iter()
            .partition(|address| self.admits(address.ip()));
        match (admitted.is_empty(), refused.first()) {
            (false, _) => Ok(admitted),
            // Which address, is not said: the answer would let a client map the names of
            // the server's own network.
            (true, Some(_)) => Err("its host resolves to a loopback, private or link-local address, which webhooks may not reach (WEBHOOK_ALLOW_PRIVATE_NETWORKS)".into()),
            (true, None) => Err("its host resolves to no address".into()),
        }
    }
}

/// Whether an address is on the public internet: not loopback, private (RFC 1918, unique
/// local), link-local, shared (100.64/10), unspecified, broadcast, documentation, benchmarking
/// or multicast, and no IPv4 address hidden in an IPv6 one that is any of these.
fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(address: Ipv4Addr) -> bool {
    let [a, b, ..] = address.octets();
    !(address.is_loopback()
        || address.is_private()
        || address.is_link_local()
        || address.is_unspecified()
        || address.is_broadcast()
        || address.is_documentation()
        || address.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && address.octets()[2] == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

/// Only global unicast (2000::/3) is on the public internet; within it, not documentation
/// (2001:db8::/32, 3fff::/20), benchmarking (2001:2::/48), ORCHID (2001:10::/28, 2001:20::/28),
/// nor 6to4 (2002::/16) and Teredo (2001::/32), which carry an IPv4 address that may be any.
/// Everything outside it (site-local fec0::/10, discard 100::/64, NAT64 64:ff9b::/96, IPv4
/// translated ::ffff:0:0/96, ...) is refused by not being in it.
fn is_public_v6(address: Ipv6Addr) -> bool {
    let [first, second, third, ..] = address.segments();
    let special = match first {
        0x2001 => {
            second == 0x0000
                || second == 0x0db8
                || (second == 0x0002 && third == 0x0000)
                || (second & 0xfff0) == 0x0010
                || (second & 0xfff0) == 0x0020
        }
        0x2002 => true,
        0x3fff => second < 0x1000,
        _ => false,
    };
    (first & 0xe000) == 0x2000 && !special
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(address: &str) -> bool {
        Destinations::PublicOnly.admits(address.parse().unwrap())
    }

    #[test]
    fn internal_addresses_are_refused() {
        for address in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "fec0::1",
            "::ffff:0:a00:1",
            "2002:7f00:1::1",
            "2001::1",
            "2001:db8::1",
            "3fff::1",
            "100::1",
            "64:ff9b::a00:1",
        ] {
            assert!(!admitted(address), "{address}");
        }
    }

    #[test]
    fn public_addresses_are_admitted() {
        for address in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:82a::200e",
            "::ffff:1.1.1.1",
        ] {
            assert!(admitted(address), "{address}");
        }
        assert!(Destinations::Any.admits("127.0.0.1".parse().unwrap()));
    }

    #[tokio::test]
    async fn a_url_naming_a_private_address_or_a_name_for_one_is_refused() {
        let literal = Url::parse("http://127.0.0.1:9/hook").unwrap();
        let error = Destinations::PublicOnly.check(&literal).await.unwrap_err();
        assert!(error.contains("loopback, private or link-local"), "{error}");
        assert!(
            !error.contains("127.0.0.1"),
            "the address is not told: {error}"
        );
        let name = Url::parse("http://localhost:9/hook").unwrap();
        assert!(Destinations::PublicOnly.check(&name).await.is_err());
        assert!(Destinations::Any.check(&literal).await.is_ok());
    }
}
