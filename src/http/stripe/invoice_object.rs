//! Stripe's invoice object over the core's invoice: amounts in minor units, its newest items as
//! its first `lines` (the rest are on the lines' URL, as on Stripe), statuses in Stripe's words.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::contract::LineList;
use super::wire::{ItemObject, LineObject, ListObject, unix, whole_minor_units};
use crate::domain::ids::InvoiceId;
use crate::domain::invoice::{Invoice, InvoiceStatus};
use crate::domain::invoice_item::{InvoiceItem, PlacedItem};
use crate::domain::metadata::Metadata;
use crate::service::invoices::InvoiceWithItems;

/// How many lines an invoice object holds, as on Stripe: `has_more` and the lines' URL give the
/// rest, so an answer stays small however many items the invoice has.
pub const LINES_SHOWN: usize = 10;

/// How many of an invoice's newest items to read to show it: one past the lines it shows, to
/// tell whether it has more.
pub const ITEMS_TO_READ: i64 = LINES_SHOWN as i64 + 1;

/// An invoice (`object: "invoice"`), with its first lines.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeInvoice)]
pub struct InvoiceObject {
    id: String,
    object: &'static str,
    amount_due: i64,
    amount_paid: i64,
    amount_remaining: i64,
    /// Always `false`: invoices here never advance by themselves.
    auto_advance: bool,
    /// `charge_automatically` (no due date unless one is given) or `send_invoice`.
    collection_method: &'static str,
    created: i64,
    paid: bool,
    paid_out_of_band: bool,
    currency: String,
    customer: String,
    /// With `send_invoice`: due this many days after it is finalized.
    days_until_due: Option<u16>,
    description: Option<String>,
    due_date: Option<i64>,
    #[schema(value_type = LineList)]
    lines: ListObject<LineObject>,
    livemode: bool,
    #[schema(value_type = HashMap<String, String>)]
    metadata: Metadata,
    number: Option<String>,
    /// What credit notes gave back of what the invoice was paid (out of band here).
    post_payment_credit_notes_amount: i64,
    /// What credit notes took off what the invoice had left to pay.
    pre_payment_credit_notes_amount: i64,
    status: &'static str,
    status_transitions: StatusTransitions,
    subtotal: i64,
    tax: Option<i64>,
    total: i64,
    total_discount_amounts: Vec<DiscountAmount>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeStatusTransitions)]
struct StatusTransitions {
    finalized_at: Option<i64>,
    marked_uncollectible_at: Option<i64>,
    paid_at: Option<i64>,
    voided_at: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeDiscountAmount)]
struct DiscountAmount {
    amount: i64,
    discount: Option<String>,
}

/// The statuses Stripe names so: `open` is unpaid, partially paid and past due, and so on.
pub fn statuses_named(name: &str) -> Option<Vec<InvoiceStatus>> {
    let statuses: Vec<InvoiceStatus> = InvoiceStatus::ALL
        .into_iter()
        .filter(|kept| status(*kept) == name)
        .collect();
    (!statuses.is_empty()).then_some(statuses)
}

/// An invoice's status in Stripe's words.
pub(super) fn status(status: InvoiceStatus) -> &'static str {
    match status {
        InvoiceStatus::Draft => "draft",
        InvoiceStatus::Unpaid | InvoiceStatus::PartiallyPaid | InvoiceStatus::PastDue => "open",
        // Stripe keeps a refunded invoice paid: its refunds live on the charge.
        InvoiceStatus::Paid | InvoiceStatus::PartiallyRefunded | InvoiceStatus::Refunded => "paid",
        InvoiceStatus::Voided => "void",
        InvoiceStatus::Abandoned => "uncollectible",
    }
}

impl InvoiceObject {
    /// The invoice as Stripe shows it, with its items given `newest` first: the first
    /// [`LINES_SHOWN`] of them are its lines, and one more makes `has_more`.
    pub fn new<'a>(
        invoice: &Invoice,
        newest: impl IntoIterator<Item = &'a InvoiceItem>,
        livemode: bool,
    ) -> Self {
        let currency = invoice.currency;
        let minor = |amount| whole_minor_units(currency, amount);
        let totals = &invoice.totals;
        let mut newest = newest.into_iter().take(LINES_SHOWN + 1).peekable();
        let lines: Vec<LineObject> = newest
            .by_ref()
            .take(LINES_SHOWN)
            .map(|item| {
                let placed = PlacedItem::OnInvoice {
                    item: Box::new(item.clone()),
                    customer_id: invoice.customer_id.clone(),
                    currency,
                };
                LineObject::new(&placed, livemode)
            })
            .collect();
        let has_more = newest.peek().is_some();
        let (pre_payment_credit, post_payment_credit) = credit_notes_amounts(invoice);
        Self {
            id: invoice.id.to_string(),
            object: "invoice",
            // Stripe's `amount_due` is what the invoice asks for once credit notes took their
            // part off, and `amount_paid` plus `amount_remaining` make it up. Credit given
            // back after payment is recorded here as a refund beside the credit: Stripe counts
            // that money as still paid.
            amount_due: minor(totals.amount - pre_payment_credit),
            amount_paid: minor(invoice.payments.net_paid() + post_payment_credit),
            amount_remaining: minor(totals.amount_due),
            auto_advance: false,
            collection_method: invoice.collection.method.as_str(),
            days_until_due: invoice.collection.days_until_due,
            paid: matches!(
                invoice.status,
                InvoiceStatus::Paid | InvoiceStatus::PartiallyRefunded | InvoiceStatus::Refunded
            ),
            // Every payment here was made elsewhere: this server charges no card.
            paid_out_of_band: invoice.payments.paid_amount > Decimal::ZERO,
            created: unix(invoice.created_time),
            currency: currency.code().to_ascii_lowercase(),
            customer: invoice.customer_id.to_string(),
            description: invoice
                .notes
                .as_ref()
                .map(|notes| notes.as_str().to_owned()),
            due_date: invoice.due_time.map(unix),
            lines: ListObject::new(lines, has_more, lines_url(&invoice.id)),
            livemode,
            metadata: invoice.metadata.clone(),
            number: invoice.invoice_number.map(|number| number.to_string()),
            post_payment_credit_notes_amount: minor(post_payment_credit),
            pre_payment_credit_notes_amount: minor(pre_payment_credit),
            status: status(invoice.status),
            status_transitions: StatusTransitions {
                finalized_at: invoice.issued_time.map(unix),
                marked_uncollectible_at: invoice.abandoned_time.map(unix),
                paid_at: invoice.payments.paid_time.map(unix),
                voided_at: invoice.voided_time.map(unix),
            },
            subtotal: minor(totals.subtotal_amount),
            tax: (invoice.tax != Default::default() || !totals.tax_amount.is_zero())
                .then(|| minor(totals.tax_amount)),
            total: minor(totals.amount),
            total_discount_amounts: invoice
                .discounts
                .iter()
                .map(|discount| DiscountAmount {
                    amount: minor(discount.amount),
                    discount: None,
                })
                .collect(),
        }
    }
}

/// What credit memos took off what an invoice had due, and what they gave back out of band
/// after it was paid: each allocation keeps its part given back. The allocations an invoice is
/// read with are its oldest 100: past those, later credit counts as pre-payment.
fn credit_notes_amounts(invoice: &Invoice) -> (Decimal, Decimal) {
    let payments = &invoice.payments;
    let post_payment: Decimal = payments
        .credit_allocations
        .iter()
        .map(|allocation| allocation.given_back)
        .sum();
    (payments.credited_amount - post_payment, post_payment)
}

/// Where an invoice's lines are listed, page by page.
pub fn lines_url(invoice_id: &InvoiceId) -> String {
    format!("/v1/invoices/{invoice_id}/lines")
}

/// An item with its invoice, found among `invoices`, in place of the invoice's id (`expand`);
/// a pending item, or one whose invoice is not among them, as it is.
pub fn expanded_item(
    placed: &PlacedItem,
    livemode: bool,
    invoices: &[InvoiceWithItems],
) -> ItemObject {
    let object = ItemObject::new(placed, livemode);
    let PlacedItem::OnInvoice { item, .. } = placed else {
        return object;
    };
    let Some((invoice, items)) = invoices
        .iter()
        .find(|(invoice, _)| invoice.id == item.invoice_id)
    else {
        return object;
    };
    match serde_json::to_value(InvoiceObject::new(invoice, items, livemode)) {
        Ok(rendered) => object.with_invoice(rendered),
        Err(_) => object,
    }
}
