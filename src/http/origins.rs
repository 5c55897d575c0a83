//! The web origins whose pages may call the API (`CORS_ALLOWED_ORIGINS`), as read from the
//! configuration.

use std::fmt;
use std::sync::Arc;

use axum::http::HeaderValue;

/// The web origins admitted by `CORS_ALLOWED_ORIGINS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// None (the default): no CORS headers at all.
    #[default]
    None,
    /// `*`: every origin, answered `Access-Control-Allow-Origin: *`.
    Any,
    /// These origins, each as browsers send it (`https://billing.example.com`).
    List(Arc<[HeaderValue]>),
}

impl AllowedOrigins {
    /// Reads a comma-separated list of origins (`scheme://host[:port]`, as browsers send them
    /// in `Origin`), or `*` alone. Empty (or only commas and spaces) is none.
    pub fn parse(text: &str) -> Result<Self, String> {
        let items: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .collect();
        if items.contains(&"*") {
            return if items.len() == 1 {
                Ok(Self::Any)
            } else {
                Err("`*` admits every origin; it cannot be listed with others".to_owned())
            };
        }
        if items.is_empty() {
            return Ok(Self::None);
        }
        let origins = items
            .into_iter()
            .map(|item| {
                parse_origin(item).map_err(|reason| {
                    format!(
                        "{item:?} is not an origin: {reason}; write scheme://host[:port] as \
                         browsers send it, e.g. https://billing.example.com"
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::List(Arc::from(origins)))
    }

    /// Whether a request from `origin` is admitted.
    pub fn admits(&self, origin: &HeaderValue) -> bool {
        match self {
            Self::None => false,
            Self::Any => true,
            Self::List(origins) => origins.contains(origin),
        }
    }
}

impl fmt::Display for AllowedOrigins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => Ok(()),
            Self::Any => f.write_str("*"),
            Self::List(origins) => {
                let texts: Vec<&str> = origins
                    .iter()
                    .map(|origin| origin.to_str().unwrap_or_default())
                    .collect();
                f.write_str(&texts.join(","))
            }
        }
    }
}

/// One origin exactly as a browser serializes it: `http` or `https`, a lower-case host, a port
/// only when it is not the scheme's default, and nothing after it (not even `/`).
fn parse_origin(text: &str) -> Result<HeaderValue, &'static str> {
    let (scheme, authority) = text
        .split_once("://")
        .ok_or("it lacks the scheme (http:// or https://)")?;
    let default_port = match scheme {
        "https" => "443",
        "http" => "80",
        _ => return Err("the scheme must be http or https, in lower case"),
    };
    if authority.contains(['/', '?', '#']) {
        return Err("an origin has no path, query or fragment (not even a trailing /)");
    }
    if authority.contains('@') {
        return Err("an origin has no user name or password");
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (authority, None),
    };
    let host_ok = match host
        .strip_prefix('[')
        .and_then(|host| host.strip_suffix(']'))
    {
        Some(ipv6) => {
            !ipv6.is_empty()
                && ipv6
                    .chars()
                    .all(|c| matches!(c, '0'..='9' | 'a'..='f' | ':' | '.'))
        }
        None => {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-' | '.'))
        }
    };
    if !host_ok {
        return Err("the host must be a lower-case name, an IPv4 address or a bracketed IPv6 one");
    }
    if let Some(port) = port {
        if port == default_port {
            return Err("browsers leave out the scheme's default port");
        }
        let valid = !port.starts_with('0')
            && port.chars().all(|c| c.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|port| port > 0);
        if !valid {
            return Err("the port must be a number from 1 to 65535, without leading zeros");
        }
    }
    HeaderValue::from_str(text).map_err(|_| "it is not a valid header value")
}
