//! The ids that name a resource in a path, and an invoice's path on this server.

use std::collections::HashMap;
use std::marker::PhantomData;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{Required, Type};

use crate::domain::ids::{
    AttemptId, EventId, InvoiceId, InvoiceItemId, ProductId, TransactionId, WebhookId,
};
use crate::error::{ApiError, Resource};
use crate::service::invoice_items::item_not_found;
use crate::service::invoices::invoice_not_found;
use crate::service::products::product_not_found;
use crate::service::timeline::message_not_found;
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
        vec![path_parameter("id", T::DESCRIPTION)]
    }
}

/// A part of an invoice that a path names by the invoice's `{id}` and a second id of its own:
/// an item, a timeline message.
pub trait InvoicePart: Sized {
    /// The name of the second id in the path (`itemId`).
    const PARAMETER: &'static str;
    /// What the contract says of that parameter.
    const DESCRIPTION: &'static str;

    /// The id as the path gives it; one that cannot exist names no such part of the invoice
    /// whose id the path gives as `invoice_id` (404).
    fn from_path(invoice_id: &str, id: &str) -> Result<Self, ApiError>;
}

/// The `{id}` of an invoice and the id of one `T` of it.
#[derive(Debug)]
pub struct InvoicePartPath<T> {
    invoice_id: String,
    part_id: String,
    of: PhantomData<T>,
}

impl<T: InvoicePart> InvoicePartPath<T> {
    /// The invoice's id and the part's, parsed.
    pub fn ids(&self) -> Result<(InvoiceId, T), ApiError> {
        let invoice_id = InvoiceId::from_path(&self.invoice_id)?;
        let part_id = T::from_path(&self.invoice_id, &self.part_id)?;
        Ok((invoice_id, part_id))
    }
}

/// Read from the path's parameters by name, since the second one's name depends on `T`.
impl<'de, T: InvoicePart> Deserialize<'de> for InvoicePartPath<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut parameters = HashMap::<String, String>::deserialize(deserializer)?;
        let mut take = |name| {
            parameters
                .remove(name)
                .ok_or_else(|| D::Error::missing_field(name))
        };
        Ok(Self {
            invoice_id: take("id")?,
            part_id: take(T::PARAMETER)?,
            of: PhantomData,
        })
    }
}

impl<T: InvoicePart> IntoParams for InvoicePartPath<T> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            path_parameter("id", InvoiceId::DESCRIPTION),
            path_parameter(T::PARAMETER, T::DESCRIPTION),
        ]
    }
}

impl InvoicePart for InvoiceItemId {
    const PARAMETER: &'static str = "itemId";
    const DESCRIPTION: &'static str = "The item id.";

    fn from_path(invoice_id: &str, id: &str) -> Result<Self, ApiError> {
        Self::parse(id).map_err(|_| item_not_found(invoice_id, id))
    }
}

impl InvoicePart for EventId {
    const PARAMETER: &'static str = "messageId";
    const DESCRIPTION: &'static str = "The timeline message id.";

    fn from_path(invoice_id: &str, id: &str) -> Result<Self, ApiError> {
        Self::parse(id).map_err(|_| message_not_found(invoice_id, id))
    }
}

/// A required string parameter of a path.
fn path_parameter(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new().schema_type(Type::String),
        ))
        .build()
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

impl PathId for TransactionId {
    const DESCRIPTION: &'static str = "The transaction id.";

    fn from_path(id: &str) -> Result<Self, ApiError> {
        Self::parse(id).map_err(|_| ApiError::not_found(Resource::Transaction, id))
    }
}

/// The path of an invoice, relative to the server root.
pub fn invoice_path(invoice_id: &InvoiceId) -> String {
    format!("/invoices/{invoice_id}")
}

/// The path of a transaction, relative to the server root.
pub fn transaction_path(transaction_id: &TransactionId) -> String {
    format!("/transactions/{transaction_id}")
}
