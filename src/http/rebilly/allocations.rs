//! An allocation of a transaction to an invoice, as the invoice's `transactions` and the
//! invoice's list of allocations both show it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::openapi::{currency, transaction_type};
use super::paths::{invoice_path, transaction_path};
use super::wire::{Link, time};
use crate::domain::currency::Currency;
use crate::domain::ids::{InvoiceId, TransactionId};
use crate::domain::money;
use crate::domain::transaction::Allocation;
use crate::http::state::AppState;

/// A part of a transaction applied to an invoice, on the wire; also an invoice's
/// `transactions`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = InvoiceTransactionAllocation)]
pub struct AllocationResponse {
    #[schema(value_type = String)]
    invoice_id: InvoiceId,
    #[schema(value_type = String)]
    transaction_id: TransactionId,
    /// The transaction's type: a `refund` gave money back.
    #[serde(rename = "type")]
    #[schema(schema_with = transaction_type)]
    kind: &'static str,
    #[serde(serialize_with = "money::serialize")]
    amount: Decimal,
    #[schema(schema_with = currency)]
    currency: Currency,
    #[serde(serialize_with = "time")]
    created_time: DateTime<Utc>,
    #[serde(rename = "_links")]
    links: Vec<Link>,
}

impl AllocationResponse {
    /// The wire form of an allocation.
    pub fn new(state: &AppState, allocation: &Allocation) -> Self {
        Self {
            invoice_id: allocation.invoice_id.clone(),
            transaction_id: allocation.transaction_id.clone(),
            kind: allocation.kind.as_str(),
            amount: allocation.amount,
            currency: allocation.currency,
            created_time: allocation.created_time,
            links: vec![
                Link::to(state, "invoice", &invoice_path(&allocation.invoice_id)),
                Link::to(
                    state,
                    "transaction",
                    &transaction_path(&allocation.transaction_id),
                ),
            ],
        }
    }
}
