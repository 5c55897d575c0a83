//! Credit memos: what an organization owes back to a customer for an invoice. A memo's lines
//! credit items of the invoice (at the item's price, with its share of discount and tax) or
//! say what they credit in words; its total is taken off what invoices have left due, in
//! allocations, or given back elsewhere when the invoice was already paid.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::currency::Currency;
use super::ids::{CreditMemoId, CreditMemoLineId, CustomerId, InvoiceId, InvoiceItemId};
use super::invoice_item::{Description, InvoiceItem, ItemType, Quantity, UnitPrice};
use super::metadata::Metadata;
use super::money::round_half_away_from_zero;
use super::spelling::spellings;
use super::tax::ItemTax;

/// Why the memo was issued. Both dialects' reasons are kept; each names its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditReason {
    /// Goods came back.
    Return,
    /// The product was not satisfactory.
    ProductUnsatisfactory,
    /// The order changed.
    OrderChange,
    /// The order was cancelled.
    OrderCancellation,
    /// The payment was charged back.
    Chargeback,
    /// The amount was written off.
    WriteOff,
    /// The amount was waived.
    Waiver,
    /// Credit given to the customer.
    CustomerCredit,
    /// Paid in advance.
    Prepayment,
    /// The invoice billed something twice.
    Duplicate,
    /// The invoice was fraudulent.
    Fraudulent,
    /// Anything else.
    Other,
}

spellings! {
    CreditReason {
        Return => "return",
        ProductUnsatisfactory => "product-unsatisfactory",
        OrderChange => "order-change",
        OrderCancellation => "order-cancellation",
        Chargeback => "chargeback",
        WriteOff => "write-off",
        Waiver => "waiver",
        CustomerCredit => "customer-credit",
        Prepayment => "prepayment",
        Duplicate => "duplicate",
        Fraudulent => "fraudulent",
        Other => "other",
    }
}

/// Where a memo is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditMemoStatus {
    /// Nothing of it is allocated yet.
    Issued,
    /// Some of it is allocated.
    PartiallyApplied,
    /// All of it is allocated.
    Applied,
    /// It was voided; it credits nothing.
    Voided,
}

spellings! {
    CreditMemoStatus {
        Issued => "issued",
        PartiallyApplied => "partially-applied",
        Applied => "applied",
        Voided => "voided",
    }
}

impl CreditMemoStatus {
    /// The status of a memo that is not voided, by how much of its total is allocated.
    pub fn of_allocated(allocated: Decimal, total: Decimal) -> Self {
        if allocated.is_zero() {
            Self::Issued
        } else if allocated >= total {
            Self::Applied
        } else {
            Self::PartiallyApplied
        }
    }
}

/// One line of a memo, as a client asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditLineInput {
    /// The item of the credited invoice it credits, if any.
    pub invoice_item_id: Option<InvoiceItemId>,
    /// What it credits; by default the item's description.
    pub description: Option<Description>,
    /// Price of one unit; by default the item's.
    pub unit_price: Option<UnitPrice>,
    /// Number of units; by default the item's quantity, or 1.
    pub quantity: Option<Quantity>,
}

/// A memo as a client asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditMemoInput {
    /// The invoice it credits.
    pub invoice_id: InvoiceId,
    /// The customer, when the client names it: it must be the invoice's.
    pub customer_id: Option<CustomerId>,
    /// The currency, when the client names it: it must be the invoice's.
    pub currency: Option<Currency>,
    /// Its lines; at least one.
    pub lines: Vec<CreditLineInput>,
    /// Shipping credited, in the currency's minor units at most.
    pub shipping_amount: Decimal,
    /// Why it was issued.
    pub reason: Option<CreditReason>,
    /// Words for the customer.
    pub description: Option<Description>,
    /// The caller's own keys and values.
    pub metadata: Metadata,
    /// Where it goes: by invoice, an amount or as much as both allow. Empty: nowhere yet.
    pub allocations: Vec<AllocationRequest>,
    /// How it is settled when the credited invoice has been paid (a dialect whose notes on a
    /// paid invoice give money back).
    pub settlement: CreditSettlement,
}

/// How a memo's total is settled at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditSettlement {
    /// As its allocations say.
    AsAllocated,
    /// All of it taken off the credited invoice: off what it has left due while it is open,
    /// else given back elsewhere, out of what it was paid.
    OnTheInvoice {
        /// The amount the caller says was given back elsewhere, checked against the rule.
        out_of_band: Option<Decimal>,
    },
}

/// A part of a memo asked for an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationRequest {
    /// The invoice.
    pub invoice_id: InvoiceId,
    /// How much; by default the lesser of what the memo has left and what the invoice owes.
    pub amount: Option<Decimal>,
}

/// One line of a stored memo.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditLine {
    /// `crmm_itm_` + ULID.
    pub id: CreditMemoLineId,
    /// The invoice item it credits, if any.
    pub invoice_item_id: Option<InvoiceItemId>,
    /// What it credits.
    pub description: Option<String>,
    /// Price of one unit.
    pub unit_price: Decimal,
    /// Number of units.
    pub quantity: i64,
    /// `round(unit price * quantity)`.
    pub price: Decimal,
    /// Its share of the item's discount.
    pub discount_amount: Decimal,
    /// Its share of the item's tax.
    pub tax_amount: Decimal,
    /// The tax's description, when it has one.
    pub tax_description: Option<String>,
}

impl CreditLine {
    /// `price - discount + tax`: what the line gives back.
    pub fn amount(&self) -> Decimal {
        self.price - self.discount_amount + self.tax_amount
    }
}

/// Why a line cannot credit what it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// It names an item the invoice does not have.
    UnknownItem,
    /// It names a credit item: a credit is not credited again.
    CreditItem,
    /// It credits more units than the item bills.
    MoreThanBilled {
        /// The item's quantity.
        quantity: i64,
    },
    /// Its unit price is above the item's.
    AboveItemPrice {
        /// The item's unit price.
        unit_price: Decimal,
    },
    /// A line of no item needs its unit price and description.
    Unpriced,
    /// Its price rounds to nothing in the currency, or is above the largest price.
    NotPositive,
    /// It credits more of the item than earlier credit memos left of it.
    MoreThanLeft {
        /// What is left to credit of the item's price.
        left: Decimal,
    },
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownItem => f.write_str("must name an item of the credited invoice"),
            Self::CreditItem => {
                f.write_str("must name a debit item: a credit is not credited again")
            }
            Self::MoreThanBilled { quantity } => {
                write!(f, "must credit at most the {quantity} units the item bills")
            }
            Self::AboveItemPrice { unit_price } => {
                write!(
                    f,
                    "must credit a unit price of at most the item's, {unit_price}"
                )
            }
            Self::Unpriced => f.write_str(
                "must give a unit price and a description when it names no invoice item",
            ),
            Self::NotPositive => {
                f.write_str("must come to more than 0 in the currency, and at most 1000000000000")
            }
            Self::MoreThanLeft { left } => write!(
                f,
                "must credit at most what earlier credit memos left of the item's price, {left}"
            ),
        }
    }
}

/// What credit memos (that are not voided) already credited of one invoice item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Credited {
    /// Of its price.
    pub price: Decimal,
    /// Of its discount.
    pub discount: Decimal,
    /// Of its tax.
    pub tax: Decimal,
}

impl Credited {
    /// What a line adds to it.
    pub fn add(&mut self, line: &CreditLine) {
        self.price += line.price;
        self.discount += line.discount_amount;
        self.tax += line.tax_amount;
    }
}

/// Prices a line: an item's line takes the item's prices by default and its share of the
/// item's discount and tax, rounded half away from zero to the currency's minor units, never
/// past what `already` (earlier credit of the item) left of it; a line of no item is priced as
/// given.
pub fn price_line(
    line: &CreditLineInput,
    item: Option<&InvoiceItem>,
    already: Credited,
    currency: Currency,
) -> Result<CreditLine, LineError> {
    let places = currency.minor_units();
    let round = |value: Decimal| round_half_away_from_zero(value, places);
    let id = CreditMemoLineId::generate();
    let Some(item) = item else {
        if line.invoice_item_id.is_some() {
            return Err(LineError::UnknownItem);
        }
        let (Some(unit_price), Some(description)) = (line.unit_price, &line.description) else {
            return Err(LineError::Unpriced);
        };
        let quantity = line.quantity.unwrap_or(Quantity::DEFAULT).get();
        let price = unit_price
            .amount()
            .checked_mul(Decimal::from(quantity))
            .map(round)
            .filter(|price| *price > Decimal::ZERO && *price <= super::money::MAX_EXTENDED_PRICE)
            .ok_or(LineError::NotPositive)?;
        return Ok(CreditLine {
            id,
            invoice_item_id: None,
            description: Some(description.as_str().to_owned()),
            unit_price: unit_price.amount(),
            quantity,
            price,
            discount_amount: Decimal::ZERO,
            tax_amount: Decimal::ZERO,
            tax_description: None,
        });
    };
    if item.item_type == ItemType::Credit {
        return Err(LineError::CreditItem);
    }
    let quantity = line.quantity.unwrap_or(item.quantity).get();
    if quantity > item.quantity.get() {
        return Err(LineError::MoreThanBilled {
            quantity: item.quantity.get(),
        });
    }
    let unit_price = line.unit_price.unwrap_or(item.unit_price).amount();
    if unit_price > item.unit_price.amount() {
        return Err(LineError::AboveItemPrice {
            unit_price: item.unit_price.amount(),
        });
    }
    // Both bounded by the item's own, whose product fits.
    let price = round(unit_price * Decimal::from(quantity)).min(item.price);
    if price <= Decimal::ZERO {
        return Err(LineError::NotPositive);
    }
    let left = item.price - already.price;
    if price > left {
        return Err(LineError::MoreThanLeft { left });
    }
    // The line's share of what the item was discounted and taxed, never past what is left of
    // it; the line that credits the rest of the item takes the rest of both, so that crediting
    // every item, in any number of parts, gives back the invoice's total to the minor unit.
    let share = |whole: Decimal, credited: Decimal| {
        let rest = whole - credited;
        if price == left {
            rest
        } else {
            round(whole * price / item.price).min(rest)
        }
    };
    let tax = item.tax.as_ref().map_or(Decimal::ZERO, ItemTax::amount);
    Ok(CreditLine {
        id,
        invoice_item_id: Some(item.id.clone()),
        description: line
            .description
            .as_ref()
            .map(|text| text.as_str().to_owned())
            .or_else(|| {
                item.description
                    .as_ref()
                    .map(|text| text.as_str().to_owned())
            }),
        unit_price,
        quantity,
        price,
        discount_amount: share(item.discount_amount, already.discount),
        tax_amount: share(tax, already.tax),
        tax_description: item.tax.as_ref().map(|tax| tax.description().to_owned()),
    })
}

/// A memo's figures, each the sum of its lines' (and the shipping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CreditTotals {
    /// Sum of the lines' prices.
    pub subtotal_amount: Decimal,
    /// Sum of the lines' discount shares.
    pub discount_amount: Decimal,
    /// Sum of the lines' tax shares.
    pub tax_amount: Decimal,
    /// Shipping credited.
    pub shipping_amount: Decimal,
    /// `subtotal - discount + tax + shipping`.
    pub total_amount: Decimal,
}

impl CreditTotals {
    /// The totals of `lines` and `shipping`.
    pub fn of(lines: &[CreditLine], shipping_amount: Decimal) -> Self {
        let sum = |part: fn(&CreditLine) -> Decimal| lines.iter().map(part).sum::<Decimal>();
        let subtotal_amount = sum(|line| line.price);
        let discount_amount = sum(|line| line.discount_amount);
        let tax_amount = sum(|line| line.tax_amount);
        Self {
            subtotal_amount,
            discount_amount,
            tax_amount,
            shipping_amount,
            total_amount: subtotal_amount - discount_amount + tax_amount + shipping_amount,
        }
    }
}

/// How much of a memo is taken off an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditAllocation {
    /// The memo.
    pub credit_memo_id: CreditMemoId,
    /// The invoice.
    pub invoice_id: InvoiceId,
    /// How much.
    pub amount: Decimal,
    /// How much of it was given back elsewhere, the invoice having been paid.
    pub given_back: Decimal,
    /// The currency.
    pub currency: Currency,
    /// When it was first allocated.
    pub created_time: DateTime<Utc>,
    /// When its amount last changed.
    pub updated_time: DateTime<Utc>,
}

/// A stored memo.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditMemo {
    /// `crmm_` + ULID.
    pub id: CreditMemoId,
    /// Its number in the organization's sequence of memos.
    pub number: i64,
    /// The customer credited.
    pub customer_id: CustomerId,
    /// The currency of every amount.
    pub currency: Currency,
    /// The invoice it credits.
    pub invoice_id: InvoiceId,
    /// Where it is in its life.
    pub status: CreditMemoStatus,
    /// Why it was issued.
    pub reason: Option<CreditReason>,
    /// Words for the customer.
    pub description: Option<String>,
    /// Its lines.
    pub lines: Vec<CreditLine>,
    /// Its figures.
    pub totals: CreditTotals,
    /// How much of the total is allocated to invoices.
    pub allocated_amount: Decimal,
    /// How much of what is allocated was given back elsewhere (the invoice was paid).
    pub out_of_band_amount: Decimal,
    /// Its allocations, oldest first.
    pub allocations: Vec<CreditAllocation>,
    /// The caller's own keys and values.
    pub metadata: Metadata,
    /// Number of changes since it was issued.
    pub revision: i64,
    /// When it was issued.
    pub created_time: DateTime<Utc>,
    /// When it last changed.
    pub updated_time: DateTime<Utc>,
    /// When it was voided.
    pub voided_time: Option<DateTime<Utc>>,
}

impl CreditMemo {
    /// What is left to allocate: nothing once voided.
    pub fn unused_amount(&self) -> Decimal {
        if self.status == CreditMemoStatus::Voided {
            Decimal::ZERO
        } else {
            self.totals.total_amount - self.allocated_amount
        }
    }
}

#[cfg(test)]
mod tests;
