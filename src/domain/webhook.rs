//! Webhooks: where an organization's events are sent, how, and with which signing secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

use super::event::EventType;
use super::ids::WebhookId;
use super::metadata::Metadata;
use super::spelling::spellings;

/// The longest URL a webhook may have.
pub const MAX_URL_LENGTH: usize = 2048;
/// The most headers a webhook may send.
pub const MAX_HEADERS: usize = 20;
/// The longest header name or value.
pub const MAX_HEADER_LENGTH: usize = 1000;

/// Headers every delivery sets itself, which a webhook may not name.
const OWN_HEADERS: &[&str] = &[
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "connection",
];

/// An `http` or `https` URL with a host, at most [`MAX_URL_LENGTH`] characters. Whether its
/// host may be reached is decided when it is saved and again on every delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    /// Parses a URL a client sent.
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.chars().count() > MAX_URL_LENGTH {
            return Err(format!("must be at most {MAX_URL_LENGTH} characters"));
        }
        let url = url::Url::parse(value).map_err(|error| format!("must be a URL ({error})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must be an http or https URL".into());
        }
        if url.host().is_none() {
            return Err("must name a host".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry credentials; send them in headers".into());
        }
        // As sent and stored, a URL is percent-encoded: `€` is 9 characters of it.
        if url.as_str().len() > MAX_URL_LENGTH {
            return Err(format!(
                "must be at most {MAX_URL_LENGTH} characters once percent-encoded"
            ));
        }
        Ok(Self(url))
    }

    /// The URL.
    pub fn as_url(&self) -> &url::Url {
        &self.0
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// The HTTP method a delivery is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryMethod {
    /// `GET` (the payload still goes in the body, as Rebilly sends it).
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
}

spellings! {
    DeliveryMethod {
        Get => "GET",
        Post => "POST",
        Put => "PUT",
        Patch => "PATCH",
        Delete => "DELETE",
    }
}

/// A header sent with every delivery of a webhook.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebhookHeader {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
    /// Sent (`true`) or kept but not sent.
    pub active: bool,
}

impl WebhookHeader {
    /// A header a client asked for: a token name that is none of the delivery's own, and a
    /// value without control characters.
    pub fn parse(name: String, value: String, active: bool) -> Result<Self, String> {
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || name.len() > MAX_HEADER_LENGTH || !name.chars().all(token) {
            return Err(format!(
                "must be a header name (letters, digits and !#$%&'*+-.^_`|~, at most {MAX_HEADER_LENGTH})"
            ));
        }
        if OWN_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(format!("{name} is set by every delivery itself"));
        }
        if value.len() > MAX_HEADER_LENGTH || value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(format!(
                "must be at most {MAX_HEADER_LENGTH} bytes without control characters"
            ));
        }
        Ok(Self {
            name,
            value,
            active,
        })
    }
}

/// The Standard Webhooks signing secret: `whsec_` and the base64 of 24 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    const PREFIX: &str = "whsec_";

    /// A new random secret.
    pub fn generate() -> Self {
        let mut key = [0u8; 24];
        getrandom::fill(&mut key).expect("the operating system's random source");
        Self(format!("{}{}", Self::PREFIX, STANDARD.encode(key)))
    }

    /// A secret as stored.
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    /// The secret as a receiver configures it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The key the signature is made with.
    pub fn key(&self) -> Vec<u8> {
        let encoded = self.0.strip_prefix(Self::PREFIX).unwrap_or(&self.0);
        STANDARD.decode(encoded).unwrap_or_default()
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// How a webhook's deliveries are made: what their body holds, and how it is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookFormat {
    /// An invoice's events, each with the invoice as it is when sent, signed with Standard
    /// Webhooks headers.
    InvoiceEvents,
    /// Every event of the log, each with its object as the event left it, signed with one
    /// `t=...,v1=...` header.
    ObjectEvents,
}

spellings! {
    WebhookFormat {
        InvoiceEvents => "invoice-events",
        ObjectEvents => "object-events",
    }
}

/// The longest description a webhook may have.
pub const MAX_DESCRIPTION_LENGTH: usize = 5000;

/// What a client said of a webhook beside where and how it is sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookLabels {
    /// What it is for.
    pub description: Option<String>,
    /// The client's own keys and values.
    pub metadata: Metadata,
    /// The event types as the client named them (a prefix such as `invoice.*` among them).
    pub event_names: Vec<String>,
}

/// A webhook as asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookInput {
    /// Where deliveries go.
    pub url: WebhookUrl,
    /// How they are sent.
    pub method: DeliveryMethod,
    /// Headers sent with each.
    pub headers: Vec<WebhookHeader>,
    /// The event types sent; empty: every one.
    pub events_filter: Vec<EventType>,
    /// Whether deliveries are made.
    pub active: bool,
    /// How deliveries are made.
    pub format: WebhookFormat,
    /// What the client said of it.
    pub labels: WebhookLabels,
}

/// A stored webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// Its id.
    pub id: WebhookId,
    /// Where deliveries go.
    pub url: WebhookUrl,
    /// How they are sent.
    pub method: DeliveryMethod,
    /// Headers sent with each.
    pub headers: Vec<WebhookHeader>,
    /// The event types sent; empty: every one.
    pub events_filter: Vec<EventType>,
    /// Whether deliveries are made.
    pub active: bool,
    /// How deliveries are made.
    pub format: WebhookFormat,
    /// What the client said of it.
    pub labels: WebhookLabels,
    /// What signs its deliveries.
    pub secret: WebhookSecret,
    /// How many times it changed.
    pub revision: i64,
    /// When it was made.
    pub created_time: DateTime<Utc>,
    /// When it last changed.
    pub updated_time: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_with_a_host_and_no_credentials() {
        assert!(WebhookUrl::parse("https://example.com/hooks?x=1").is_ok());
        assert!(WebhookUrl::parse("http://127.0.0.1:8080/").is_ok());
        assert!(WebhookUrl::parse("ftp://example.com/").is_err());
        assert!(WebhookUrl::parse("https://user:pw@example.com/").is_err());
        let euros = format!("https://example.com/{}", "€".repeat(600));
        assert!(
            WebhookUrl::parse(&euros)
                .unwrap_err()
                .contains("percent-encoded")
        );
        assert!(WebhookUrl::parse("not a url").is_err());
        assert!(WebhookUrl::parse(&format!("https://e.com/{}", "a".repeat(2048))).is_err());
    }

    #[test]
    fn headers_may_not_be_the_deliverys_own_or_carry_control_characters() {
        assert!(WebhookHeader::parse("X-Token".into(), "abc".into(), true).is_ok());
        assert!(WebhookHeader::parse("Webhook-Signature".into(), "v1,x".into(), true).is_err());
        assert!(WebhookHeader::parse("X Bad".into(), "abc".into(), true).is_err());
        assert!(WebhookHeader::parse("X-Ok".into(), "a\r\nInjected: 1".into(), true).is_err());
    }

    #[test]
    fn a_secret_carries_a_24_byte_key() {
        let secret = WebhookSecret::generate();
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(secret.key().len(), 24);
        assert_ne!(secret, WebhookSecret::generate());
        assert_eq!(format!("{secret:?}"), "WebhookSecret(..)");
    }
}
