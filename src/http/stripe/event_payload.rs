//! Deliveries to a webhook endpoint: each event of the log as `GET /v1/events/{id}` shows it,
//! signed as Stripe signs its own, so that Stripe's libraries verify it
//! (`Stripe-Signature: t=<Unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">`, keyed with the
//! endpoint's whole `whsec_...` secret).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::event_object::EventObject;
use super::invoice_object::InvoiceContext;
use crate::delivery::{Payload, Subject};
use crate::http::state::AppState;
use crate::repository::ClaimedDelivery;

/// Renders deliveries as Stripe's events.
pub struct StripePayload {
    state: AppState,
}

impl StripePayload {
    /// Payloads whose URLs point at `state`'s public URL.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

impl Payload for StripePayload {
    fn render(&self, delivery: &ClaimedDelivery, subject: &Subject) -> Vec<u8> {
        let Some(logged) = &subject.logged else {
            // The worker sends no delivery of this format without its event.
            return b"{}".to_vec();
        };
        // Deliveries are made by no key, and this server's keys are all of test mode.
        let organization_id = &delivery.organization_id;
        let context =
            InvoiceContext::new(&self.state, organization_id, false, subject.seller.as_ref());
        serde_json::to_vec(&EventObject::new(logged, &context)).unwrap_or_default()
    }

    fn signature(
        &self,
        delivery: &ClaimedDelivery,
        timestamp: i64,
        body: &[u8],
    ) -> Vec<(String, String)> {
        let secret = delivery.webhook.secret.expose();
        vec![("stripe-signature".to_owned(), sign(secret, timestamp, body))]
    }
}

/// The `Stripe-Signature` header's value.
fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `stripe.webhooks.generateTestHeaderString` makes of the same secret, time and
    /// body (stripe-node's own test of its signature).
    #[test]
    fn signs_as_stripes_libraries_check() {
        let header = sign("whsec_test_secret", 1_700_000_000, br#"{"id":"evt_1"}"#);
        assert!(header.starts_with("t=1700000000,v1="));
        let hex = header.rsplit('=').next().unwrap();
        assert_eq!(hex.len(), 64);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_test_secret").unwrap();
        mac.update(br#"1700000000.{"id":"evt_1"}"#);
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(hex, expected);
    }
}
