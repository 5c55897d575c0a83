//! The ids that name a resource in a path, and an invoice's path on this server.

use std::marker::PhantomData;

use serde::Deserialize;
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{Required, Type};

use crate::domain::ids::{AttemptId, InvoiceId, ProductId, WebhookId};
use crate::error::ApiError;
use crate::service::invoices::invoice_not_found;
use crate::service::products::product_not_found;
use crate::service::webhooks::{attempt_not_found, webhook_not_found};

/// A resource that a path names by its `{id}`.
pub trait PathId: Sized {
    /// What the contract says of the parameter.
    const DESCRIPTION: &'static str;

    /// The id as the path gives it; one that cannot exist names no such resource (404).
    fn from_path(id: &str) -> Result<Self, ApiError>;
}

/// The `{id}` of a path naming one `T`.
#[derive(Debug, Deserialize)]
#[serde(bound = "")]
pub struct IdPath<T> {
    id: String,
    #[serde(skip)]
    of: PhantomData<T>,
}

impl<T: PathId> IdPath<T> {
    /// The id, parsed.
    pub fn id(&self) -> Result<T, ApiError> {
        T::from_path(&self.id)
    }
}

impl<T: PathId> IntoParams for IdPath<T> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(T::DESCRIPTION))
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new().schema_type(Type::String),
                ))
                .build(),
        ]
    }
}

impl PathId for InvoiceId {
    const DESCRIPTION: &'static str = "The invoice id.";

    fn from_path(id: &str) -> Result<Self, ApiError> {
        Self::parse(id).map_err(|_| invoice_not_found(id))
    }
}

impl PathId for ProductId {
    const DESCRIPTION: &'static str = "The product id.";

    fn from_path(id: &str) -> Result<Self, ApiError> {
        Self::parse(id).map_err(|_| product_not_found(id))
    }
}

impl PathId for WebhookId {
    const DESCRIPTION: &'static str = "The webhook id.";

    fn from_path(id: &str) -> Result<Self, ApiError> {
        Self::parse(id).map_err(|_| webhook_not_found(id))
    }
}

impl PathId for AttemptId {
    const DESCRIPTION: &'static str = "The log entry's id.";

    fn from_path(id: &str) -> Result<Self, ApiError> {
        Self::parse(id).map_err(|_| attempt_not_found(id))
    }
}

/// The path of an invoice, relative to the server root.
pub fn invoice_path(invoice_id: &InvoiceId) -> String {
    format!("/invoices/{invoice_id}")
}
