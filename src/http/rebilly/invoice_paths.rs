//! The paths that name an invoice: its path parameter, and its path on this server.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::domain::ids::InvoiceId;
use crate::error::ApiError;
use crate::service::invoices::invoice_not_found;

/// Path of one invoice.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct InvoicePath {
    /// The invoice id.
    pub id: String,
}

impl InvoicePath {
    /// The invoice id; one that cannot exist names no invoice (404).
    pub fn invoice_id(&self) -> Result<InvoiceId, ApiError> {
        InvoiceId::parse(&self.id).map_err(|_| invoice_not_found(&self.id))
    }
}

/// The path of an invoice, relative to the server root.
pub fn invoice_path(invoice_id: &InvoiceId) -> String {
    format!("/invoices/{invoice_id}")
}
