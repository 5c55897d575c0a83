//! Stripe's credit note object over the core's credit memo: the same row, amounts in minor
//! units, statuses and reasons in Stripe's words, and every line shown.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::credit_note_params::reason_name;
use super::wire::{ListObject, unix};
use super::words::{minor_text, whole_minor_units};
use crate::domain::credit_memo::{CreditLine, CreditMemo, CreditMemoStatus};
use crate::domain::currency::Currency;
use crate::domain::ids::CreditMemoId;
use crate::domain::metadata::Metadata;

/// A credit note (`object: "credit_note"`), with all its lines.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StripeCreditNote)]
pub struct CreditNoteObject {
    id: String,
    object: &'static str,
    /// The total, tax included, in minor units.
    amount: i64,
    amount_shipping: i64,
    created: i64,
    currency: String,
    customer: String,
    #[schema(value_type = Option<String>)]
    customer_balance_transaction: Option<()>,
    discount_amount: i64,
    discount_amounts: Vec<DiscountAmount>,
    /// When the note is in effect: when it was issued.
    effective_at: i64,
    invoice: String,
    #[schema(value_type = CreditNoteLineList)]
    lines: ListObject<CreditNoteLineObject>,
    livemode: bool,
    memo: Option<String>,
    #[schema(value_type = HashMap<String, String>)]
    metadata: Metadata,
    number: String,
    /// What was given back outside this server; null when nothing was.
    out_of_band_amount: Option<i64>,
    /// The memo's document: `GET` it with the caller's credentials and
    /// `Accept: application/pdf`.
    pdf: String,
    /// What the note took off what the invoice had left to pay.
    pre_payment_amount: i64,
    /// What the note gave back of what the invoice was paid (out of band here).
    post_payment_amount: i64,
    /// `duplicate`, `fraudulent`, `order_change`, `product_unsatisfactory`, or null (for a
    /// reason the Rebilly dialect gave that Stripe has no word for).
    reason: Option<&'static str>,
    #[schema(value_type = Option<String>)]
    refund: Option<()>,
    #[schema(value_type = Vec<Object>)]
    refunds: [(); 0],
    #[schema(value_type = Option<Object>)]
    shipping_cost: Option<()>,
    /// `issued` or `void`.
    status: &'static str,
    subtotal: i64,
    subtotal_excluding_tax: i64,
    tax_amounts: Vec<TaxAmount>,
    total: i64,
    total_excluding_tax: i64,
    /// `pre_payment` (taken off what was due), `post_payment` (given back out of band) or `mixed`.
    #[serde(rename = "type")]
    kind: &'static str,
    voided_at: Option<i64>,
}

/// A line of a note (`object: "credit_note_line_item"`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = StripeCreditNoteLineItem)]
pub struct CreditNoteLineObject {
    id: String,
    object: &'static str,
    /// What the line credits before discount and tax, in minor units.
    amount: i64,
    amount_excluding_tax: i64,
    description: Option<String>,
    discount_amount: i64,
    discount_amounts: Vec<DiscountAmount>,
    /// The invoice's line (its item, `ii_...`) credited; null for a custom line.
    invoice_line_item: Option<String>,
    livemode: bool,
    quantity: i64,
    tax_amounts: Vec<TaxAmount>,
    #[schema(value_type = Vec<String>)]
    tax_rates: [String; 0],
    /// `invoice_line_item` or `custom_line_item`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// Null when the unit amount is finer than the minor unit (see `unit_amount_decimal`).
    unit_amount: Option<i64>,
    unit_amount_decimal: String,
    unit_amount_excluding_tax: String,
}

/// What a discount took off, without a discount object: this server has none.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = StripeCreditNoteDiscountAmount)]
struct DiscountAmount {
    amount: i64,
    discount: Option<String>,
}

/// Tax credited, without a tax rate object: this server has none (its taxes are the
/// invoice's, by description), and every tax here is added on top of the price.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = StripeCreditNoteTaxAmount)]
struct TaxAmount {
    amount: i64,
    inclusive: bool,
    tax_rate: Option<String>,
    taxability_reason: Option<String>,
    taxable_amount: i64,
}

/// The discount amounts of an amount: none when it is 0.
fn discount_amounts(currency: Currency, amount: Decimal) -> Vec<DiscountAmount> {
    if amount.is_zero() {
        return Vec::new();
    }
    vec![DiscountAmount {
        amount: whole_minor_units(currency, amount),
        discount: None,
    }]
}

/// The tax amounts of a tax on what it taxed: none when the tax is 0.
fn tax_amounts(currency: Currency, tax: Decimal, taxable: Decimal) -> Vec<TaxAmount> {
    if tax.is_zero() {
        return Vec::new();
    }
    vec![TaxAmount {
        amount: whole_minor_units(currency, tax),
        inclusive: false,
        tax_rate: None,
        taxability_reason: None,
        taxable_amount: whole_minor_units(currency, taxable),
    }]
}

/// Where a note's lines are listed, as Stripe names it.
fn lines_url(id: &CreditMemoId) -> String {
    format!("/v1/credit_notes/{id}/lines")
}

/// Where a note's document is, on the Rebilly routes (the same memo).
pub fn document_path(id: &CreditMemoId) -> String {
    format!("/credit-memos/{id}")
}

impl CreditNoteObject {
    /// The memo as Stripe shows a credit note; `pdf` is its document's absolute URL.
    pub fn new(memo: &CreditMemo, livemode: bool, pdf: String) -> Self {
        let currency = memo.currency;
        let minor = |amount| whole_minor_units(currency, amount);
        let totals = &memo.totals;
        let lines = CreditNoteLineObject::all(memo, livemode);
        // Tax is charged on what is left of a taxed line after its discount.
        let taxed = memo
            .lines
            .iter()
            .filter(|line| !line.tax_amount.is_zero())
            .map(|line| line.price - line.discount_amount)
            .sum();
        // What was given back out of band, past what the invoice had due; the rest of a note
        // was taken off what the invoice had due (or, for a memo made on the Rebilly routes,
        // is still to be allocated, or went to another invoice).
        let post_payment = memo.out_of_band_amount;
        let pre_payment = totals.total_amount - post_payment;
        Self {
            id: memo.id.to_string(),
            object: "credit_note",
            amount: minor(totals.total_amount),
            amount_shipping: minor(totals.shipping_amount),
            created: unix(memo.created_time),
            currency: currency.code().to_ascii_lowercase(),
            customer: memo.customer_id.to_string(),
            customer_balance_transaction: None,
            discount_amount: minor(totals.discount_amount),
            discount_amounts: discount_amounts(currency, totals.discount_amount),
            effective_at: unix(memo.created_time),
            invoice: memo.invoice_id.to_string(),
            // Every line is shown: a memo has at most 100, as a page of the list may.
            lines: ListObject::new(lines, false, lines_url(&memo.id)),
            livemode,
            memo: memo.description.clone(),
            metadata: memo.metadata.clone(),
            number: memo.number.to_string(),
            out_of_band_amount: (post_payment > Decimal::ZERO).then(|| minor(post_payment)),
            pdf,
            pre_payment_amount: minor(pre_payment),
            post_payment_amount: minor(post_payment),
            reason: memo.reason.and_then(reason_name),
            refund: None,
            refunds: [],
            shipping_cost: None,
            status: match memo.status {
                CreditMemoStatus::Voided => "void",
                CreditMemoStatus::Issued
                | CreditMemoStatus::PartiallyApplied
                | CreditMemoStatus::Applied => "issued",
            },
            subtotal: minor(totals.subtotal_amount),
            subtotal_excluding_tax: minor(totals.subtotal_amount),
            tax_amounts: tax_amounts(currency, totals.tax_amount, taxed),
            total: minor(totals.total_amount),
            total_excluding_tax: minor(totals.total_amount - totals.tax_amount),
            kind: match (pre_payment > Decimal::ZERO, post_payment > Decimal::ZERO) {
                (true, true) => "mixed",
                (false, true) => "post_payment",
                _ => "pre_payment",
            },
            voided_at: memo.voided_time.map(unix),
        }
    }
}

impl CreditNoteLineObject {
    /// The memo's lines as a note shows them, in the memo's order.
    pub fn all(memo: &CreditMemo, livemode: bool) -> Vec<Self> {
        memo.lines
            .iter()
            .map(|line| Self::new(line, memo.currency, livemode))
            .collect()
    }

    /// The line's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn new(line: &CreditLine, currency: Currency, livemode: bool) -> Self {
        let minor = |amount| whole_minor_units(currency, amount);
        Self {
            id: line.id.to_string(),
            object: "credit_note_line_item",
            amount: minor(line.price),
            amount_excluding_tax: minor(line.price),
            description: line.description.clone(),
            discount_amount: minor(line.discount_amount),
            discount_amounts: discount_amounts(currency, line.discount_amount),
            invoice_line_item: line.invoice_item_id.as_ref().map(ToString::to_string),
            livemode,
            quantity: line.quantity,
            tax_amounts: tax_amounts(currency, line.tax_amount, line.price - line.discount_amount),
            tax_rates: [],
            kind: if line.invoice_item_id.is_some() {
                "invoice_line_item"
            } else {
                "custom_line_item"
            },
            unit_amount: currency.minor_units_of(line.unit_price),
            unit_amount_decimal: minor_text(currency, line.unit_price),
            unit_amount_excluding_tax: minor_text(currency, line.unit_price),
        }
    }
}

/// A page of a note's lines (in a note, all of them).
#[derive(ToSchema)]
#[schema(as = StripeCreditNoteLineList)]
#[expect(dead_code, reason = "its fields are read by the schema derive alone")]
pub struct CreditNoteLineList {
    /// `list`.
    object: String,
    /// In the memo's order.
    data: Vec<CreditNoteLineObject>,
    /// Always false: a note shows every line.
    has_more: bool,
    /// `/v1/credit_notes/{id}/lines`.
    url: String,
}

/// A page of credit notes.
#[derive(ToSchema)]
#[schema(as = StripeCreditNoteList)]
#[expect(dead_code, reason = "its fields are read by the schema derive alone")]
pub struct CreditNoteList {
    /// `list`.
    object: String,
    /// Newest first.
    data: Vec<CreditNoteObject>,
    /// Whether more lie beyond this page.
    has_more: bool,
    /// `/v1/credit_notes`.
    url: String,
}
