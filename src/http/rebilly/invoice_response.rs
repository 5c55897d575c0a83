//! An invoice on the wire, with its items, or without them and the place where their list
//! begins (for an answer whose items are written chunk by chunk as they are read).

use std::cell::{Cell, RefCell};

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

use super::allocations::AllocationResponse;
use super::contact::{ContactObjectResponse, ElectronicAddressResponse, TaxIdResponse};
use super::credit_memos::CreditAllocationResponse;
use super::invoice_items::ItemResponse;
use super::openapi::{currency, discount_kind, invoice_status};
use super::paths::invoice_path;
use super::tax::InvoiceTaxResponse;
use super::wire::{Link, time, time_option};
use crate::domain::currency::Currency;
use crate::domain::discount::{AppliedDiscount, DiscountKind};
use crate::domain::ids::{CustomerId, InvoiceId, WebsiteId};
use crate::domain::invoice::{Invoice, InvoiceStatus};
use crate::domain::invoice_item::InvoiceItem;
use crate::domain::money;
use crate::domain::vat_totals::{VatTotal, vat_totals};
use crate::http::state::AppState;

/// An invoice on the wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Invoice)]
pub(super) struct InvoiceResponse<'a> {
    #[schema(value_type = String, example = "in_01JD3G8M9K2QW5X7Y8Z9A0B1C2")]
    id: InvoiceId,
    #[schema(value_type = String)]
    customer_id: CustomerId,
    #[schema(value_type = String)]
    website_id: WebsiteId,
    #[schema(schema_with = currency)]
    currency: Currency,
    #[schema(schema_with = invoice_status)]
    status: InvoiceStatus,
    /// The invoice's number in its organization, 1, 2, 3, ... with no gap, given when it is
    /// issued; `null` for a draft.
    invoice_number: Option<i64>,
    #[serde(serialize_with = "money::serialize")]
    subtotal_amount: Decimal,
    #[serde(serialize_with = "money::serialize")]
    discount_amount: Decimal,
    discounts: Vec<DiscountResponse>,
    tax: InvoiceTaxResponse,
    #[serde(serialize_with = "money::serialize")]
    amount: Decimal,
    /// What is left to pay: `amount`, less the payments applied, plus the refunds.
    #[serde(serialize_with = "money::serialize")]
    amount_due: Decimal,
    /// When it was paid in full; `null` until then.
    #[serde(serialize_with = "time_option")]
    paid_time: Option<DateTime<Utc>>,
    /// Its newest applications of transactions, at most 10, oldest first; all of them are at
    /// `/invoices/{id}/transaction-allocations`.
    transactions: Vec<AllocationResponse>,
    /// The credit memos taken off it, oldest first.
    credit_memo_allocations: Vec<CreditAllocationResponse>,
    #[serde(serialize_with = "time_option")]
    due_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "time_option")]
    issued_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "time_option")]
    abandoned_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "time_option")]
    voided_time: Option<DateTime<Utc>>,
    notes: Option<String>,
    po_number: Option<String>,
    billing_address: Option<ContactObjectResponse>,
    delivery_address: Option<ContactObjectResponse>,
    organization_tax_id_number: Option<TaxIdResponse>,
    customer_tax_id_number: Option<TaxIdResponse>,
    /// The buyer's address on an e-invoicing network such as Peppol, where given.
    customer_electronic_address: Option<ElectronicAddressResponse>,
    /// What the buyer asks its invoices to quote (a German Leitweg-ID, say), where given.
    buyer_reference: Option<String>,
    /// Grows by one with every change to the invoice or its items; the `ETag`.
    revision: i64,
    #[schema(value_type = Vec<ItemResponse>)]
    items: ItemsResponse<'a>,
    #[serde(serialize_with = "time")]
    created_time: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    updated_time: DateTime<Utc>,
    #[serde(rename = "_links")]
    links: Vec<Link>,
}

/// A discount as set, with what it took off.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Discount)]
struct DiscountResponse {
    description: Option<String>,
    #[serde(rename = "type")]
    #[schema(schema_with = discount_kind)]
    kind: DiscountKind,
    #[serde(serialize_with = "money::serialize")]
    value: Decimal,
    /// What it took off the invoice.
    #[serde(serialize_with = "money::serialize")]
    amount: Decimal,
}

impl DiscountResponse {
    fn new(applied: &AppliedDiscount) -> Self {
        let discount = &applied.discount;
        Self {
            description: discount
                .description
                .as_ref()
                .map(|text| text.as_str().to_owned()),
            kind: discount.kind,
            value: discount.value(),
            amount: applied.amount,
        }
    }
}

impl<'a> InvoiceResponse<'a> {
    pub(super) fn new(state: &'a AppState, invoice: &Invoice, items: &'a [InvoiceItem]) -> Self {
        let vat_totals = vat_totals(&invoice.tax, items);
        let items = ItemsResponse::Listed { state, items };
        Self::with(state, invoice, &vat_totals, items)
    }

    /// The invoice with an empty list of items, whose place `mark` notes as it is written:
    /// for an invoice whose items are written after it, chunk by chunk.
    pub(super) fn without_items(
        state: &'a AppState,
        invoice: &Invoice,
        vat_totals: &[VatTotal],
        mark: &'a ItemsMark,
    ) -> Self {
        Self::with(state, invoice, vat_totals, ItemsResponse::Marked(mark))
    }

    fn with(
        state: &'a AppState,
        invoice: &Invoice,
        vat_totals: &[VatTotal],
        items: ItemsResponse<'a>,
    ) -> Self {
        let totals = &invoice.totals;
        let parties = &invoice.parties;
        Self {
            id: invoice.id.clone(),
            customer_id: invoice.customer_id.clone(),
            website_id: invoice.website_id.clone(),
            currency: invoice.currency,
            status: invoice.status,
            invoice_number: invoice.invoice_number,
            subtotal_amount: totals.subtotal_amount,
            discount_amount: totals.discount_amount,
            discounts: invoice
                .discounts
                .iter()
                .map(DiscountResponse::new)
                .collect(),
            tax: InvoiceTaxResponse::new(&invoice.tax, totals.tax_amount, vat_totals),
            amount: totals.amount,
            amount_due: totals.amount_due,
            paid_time: invoice.payments.paid_time,
            transactions: invoice
                .payments
                .recent_allocations
                .iter()
                .map(|allocation| AllocationResponse::new(state, allocation))
                .collect(),
            credit_memo_allocations: invoice
                .payments
                .credit_allocations
                .iter()
                .map(CreditAllocationResponse::new)
                .collect(),
            due_time: invoice.due_time,
            issued_time: invoice.issued_time,
            abandoned_time: invoice.abandoned_time,
            voided_time: invoice.voided_time,
            notes: invoice.notes.clone(),
            po_number: invoice.po_number.clone(),
            billing_address: parties
                .billing_address
                .as_ref()
                .map(ContactObjectResponse::new),
            delivery_address: parties
                .delivery_address
                .as_ref()
                .map(ContactObjectResponse::new),
            organization_tax_id_number: parties
                .organization_tax_id
                .as_ref()
                .map(TaxIdResponse::new),
            customer_tax_id_number: parties.customer_tax_id.as_ref().map(TaxIdResponse::new),
            customer_electronic_address: parties
                .customer_electronic_address
                .as_ref()
                .map(ElectronicAddressResponse::new),
            buyer_reference: parties
                .buyer_reference
                .as_ref()
                .map(|reference| reference.as_str().to_owned()),
            revision: invoice.revision,
            items,
            created_time: invoice.created_time,
            updated_time: invoice.updated_time,
            links: vec![Link::to(state, "self", &invoice_path(&invoice.id))],
        }
    }
}

/// An invoice's items on the wire.
enum ItemsResponse<'a> {
    /// Each rendered as it is written: the answer of an invoice of hundreds of items holds no
    /// second copy of them.
    Listed {
        state: &'a AppState,
        items: &'a [InvoiceItem],
    },
    /// None yet, written `[]` where the mark notes: the items are written there afterwards.
    Marked(&'a ItemsMark),
}

impl Serialize for ItemsResponse<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Listed { state, items } => {
                let rendered = items.iter().map(|item| ItemResponse::new(state, item));
                serializer.collect_seq(rendered)
            }
            Self::Marked(mark) => {
                mark.note();
                serializer.collect_seq(std::iter::empty::<()>())
            }
        }
    }
}

impl std::fmt::Debug for ItemsResponse<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Listed { items, .. } => formatter.debug_list().entries(*items).finish(),
            Self::Marked(_) => formatter.write_str("[..]"),
        }
    }
}

/// An invoice's JSON as it is written without its items, and where in it their list begins:
/// the invoice is serialized as every other answer is, and the place is noted as the list is
/// reached.
#[derive(Default)]
pub(super) struct ItemsMark {
    written: RefCell<Vec<u8>>,
    at: Cell<Option<usize>>,
}

impl ItemsMark {
    /// Notes that the items' list begins at what is written so far.
    pub(super) fn note(&self) {
        self.at.set(Some(self.written.borrow().len()));
    }

    /// The invoice's JSON up to and with its items' `[`, and from their `]` to its end.
    pub(super) fn around_items(
        state: &AppState,
        invoice: &Invoice,
        vat_totals: &[VatTotal],
    ) -> Result<(Bytes, Bytes), std::io::Error> {
        let mark = Self::default();
        let response = InvoiceResponse::without_items(state, invoice, vat_totals, &mark);
        serde_json::to_writer(MarkedWriter(&mark), &response)?;
        let (mut written, at) = (mark.written.take(), mark.at.get());
        // An empty list is written `[]` where it was noted.
        let Some(at) = at.filter(|at| written.get(*at..*at + 2) == Some(b"[]")) else {
            return Err(std::io::Error::other(
                "the invoice's items were not written",
            ));
        };
        let tail = written.split_off(at + 1);
        Ok((Bytes::from(written), Bytes::from(tail)))
    }
}

/// Writes into a mark's bytes, which the mark reads when it notes its place.
struct MarkedWriter<'a>(&'a ItemsMark);

impl std::io::Write for MarkedWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.written.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
