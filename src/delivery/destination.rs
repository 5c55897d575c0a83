//! The delivery client's side of where a delivery may go (see [`Destinations`]): its resolver
//! checks, on every connection, the addresses a webhook's host then resolves to, so a name
//! that changes its answer after being saved (DNS rebinding) is caught too.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::service::destinations::Destinations;

/// The delivery client's resolver: it answers only with addresses deliveries may reach.
#[derive(Debug, Clone)]
pub(super) struct CheckingResolver(pub Destinations);

impl reqwest::dns::Resolve for CheckingResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let destinations = self.0;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let admitted = destinations
                .admitted(found)
                .map_err(Box::<dyn std::error::Error + Send + Sync>::from)?;
            let addresses: reqwest::dns::Addrs = Box::new(admitted.into_iter());
            Ok(addresses)
        })
    }
}

impl From<Destinations> for Arc<CheckingResolver> {
    fn from(destinations: Destinations) -> Self {
        Arc::new(CheckingResolver(destinations))
    }
}
