//! Browsers: the web origins `CORS_ALLOWED_ORIGINS` admits, their preflights answered before
//! any handler (so without credentials and outside rate limits), and the response headers
//! their scripts may read.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::{
    AUTHORIZATION, CONTENT_TYPE, ETAG, IF_MATCH, LOCATION, ORIGIN, RETRY_AFTER, VARY,
};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tower::{Layer, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::auth::API_KEY_HEADER;
use super::idempotency::{IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED};
use super::rate_limit::{LIMIT_HEADER, REMAINING_HEADER, RETRY_AT_HEADER};

/// The request headers a page may send besides the CORS-safelisted ones.
const ALLOWED_HEADERS: [HeaderName; 7] = [
    HeaderName::from_static(API_KEY_HEADER),
    AUTHORIZATION,
    IDEMPOTENCY_KEY,
    IF_MATCH,
    CONTENT_TYPE,
    // Rebilly's JS SDK sends it from a browser (`Rebilly-SDK-Typescript/<version>`); without it
    // here, every preflight of that SDK would be refused. The server ignores its value.
    HeaderName::from_static("reb-api-consumer"),
    // A page may name its own request, as any client may: the server keeps it.
    HeaderName::from_static("x-request-id"),
];

/// The response headers a page's script may read besides the CORS-safelisted ones.
const EXPOSED_HEADERS: [HeaderName; 11] = [
    HeaderName::from_static("x-request-id"),
    ETAG,
    LOCATION,
    HeaderName::from_static("pagination-total"),
    HeaderName::from_static("pagination-limit"),
    HeaderName::from_static("pagination-offset"),
    LIMIT_HEADER,
    REMAINING_HEADER,
    RETRY_AT_HEADER,
    RETRY_AFTER,
    IDEMPOTENT_REPLAYED,
];

/// The methods of the API's routes.
const ALLOWED_METHODS: [Method; 5] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::DELETE,
];

/// How long a browser may reuse a preflight's answer.
const MAX_AGE: Duration = Duration::from_secs(600);

pub use super::origins::AllowedOrigins;

/// CORS for the origins `CORS_ALLOWED_ORIGINS` admits, as middleware (see [`handle`]).
#[derive(Debug, Clone)]
pub struct Cors {
    origins: AllowedOrigins,
    layer: CorsLayer,
}

impl Cors {
    /// CORS for `origins`: credentials are headers (`REB-APIKEY`, `Authorization`), never
    /// cookies, so `Access-Control-Allow-Credentials` is not sent.
    pub fn new(origins: AllowedOrigins) -> Self {
        let allow_origin = match &origins {
            AllowedOrigins::Any => AllowOrigin::any(),
            AllowedOrigins::None => AllowOrigin::list([]),
            AllowedOrigins::List(list) => AllowOrigin::list(list.iter().cloned()),
        };
        let layer = CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods(ALLOWED_METHODS)
            .allow_headers(ALLOWED_HEADERS)
            .expose_headers(EXPOSED_HEADERS)
            .max_age(MAX_AGE);
        Self { origins, layer }
    }
}

/// A request whose `Origin` is admitted goes through `tower_http`'s CORS: an `OPTIONS` is
/// answered here as a preflight (200, before authentication and rate limits), any
/// other request gets `Access-Control-Allow-Origin` and `Access-Control-Expose-Headers` on its
/// answer, whatever the status. Any other request (no `Origin`, or one not admitted, or CORS
/// off) passes untouched: no CORS header, and an `OPTIONS` is routed as usual (405).
pub async fn handle(State(cors): State<Cors>, request: Request, next: Next) -> Response {
    if cors.origins == AllowedOrigins::None {
        return next.run(request).await;
    }
    let admitted = request
        .headers()
        .get(ORIGIN)
        .is_some_and(|origin| cors.origins.admits(origin));
    if admitted {
        let answer: Result<Response, Infallible> = cors.layer.layer(next).oneshot(request).await;
        return answer.unwrap_or_else(|never| match never {});
    }
    let mut response = next.run(request).await;
    // The answer depends on `Origin`: a cache must not give this one to an admitted origin.
    response
        .headers_mut()
        .append(VARY, HeaderValue::from_static("origin"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_read_as_browsers_send_them() {
        assert_eq!(AllowedOrigins::parse(""), Ok(AllowedOrigins::None));
        assert_eq!(AllowedOrigins::parse(" , "), Ok(AllowedOrigins::None));
        assert_eq!(AllowedOrigins::parse(" * "), Ok(AllowedOrigins::Any));
        let list = AllowedOrigins::parse(
            "https://billing.example.com, http://localhost:5173,http://127.0.0.1:8080,\
             https://[::1]:8443,https://xn--bcher-kva.example",
        )
        .unwrap();
        assert_eq!(
            list.to_string(),
            "https://billing.example.com,http://localhost:5173,http://127.0.0.1:8080,\
             https://[::1]:8443,https://xn--bcher-kva.example"
        );
    }

    #[test]
    fn anything_a_browser_would_not_send_as_origin_is_refused_with_the_reason() {
        let cases = [
            ("https://billing.example.com/", "no path"),
            ("https://billing.example.com/app", "no path"),
            ("billing.example.com", "lacks the scheme"),
            ("ftp://billing.example.com", "http or https"),
            ("HTTPS://billing.example.com", "http or https"),
            ("https://Billing.example.com", "lower-case"),
            ("https://", "lower-case"),
            ("https://bad_host.example.com", "lower-case"),
            ("https://billing.example.com:443", "default port"),
            ("http://billing.example.com:80", "default port"),
            ("https://billing.example.com:0", "1 to 65535"),
            ("https://billing.example.com:65536", "1 to 65535"),
            ("https://billing.example.com:08443", "1 to 65535"),
            ("https://billing.example.com:", "1 to 65535"),
            ("https://user@billing.example.com", "user name"),
            ("https://billing.example.com?x=1", "no path"),
            ("null", "lacks the scheme"),
        ];
        for (text, reason) in cases {
            let error =
                AllowedOrigins::parse(&format!("https://ok.example.com,{text}")).expect_err(text);
            assert!(
                error.contains(&format!("{text:?} is not an origin")) && error.contains(reason),
                "{text}: {error}"
            );
        }
        let mixed = AllowedOrigins::parse("*,https://billing.example.com").unwrap_err();
        assert!(mixed.contains("cannot be listed with others"), "{mixed}");
    }
}
