//! An e-invoice as EN 16931 sees it, whatever syntax writes it: its business terms (BT-*) and
//! groups (BG-*), with every amount already exact in the currency's minor units. Built once from
//! an invoice or a credit memo; the UBL and the CII writers only spell it.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::currency::Currency;
use crate::domain::vat::{ExemptionCode, VatCategory};

/// Which document it is (BT-3, UNCL 1001).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// A commercial invoice, `380`.
    Invoice,
    /// A credit note, `381`.
    CreditNote,
}

impl DocumentKind {
    /// The type code.
    pub fn type_code(self) -> &'static str {
        match self {
            Self::Invoice => "380",
            Self::CreditNote => "381",
        }
    }
}

/// An e-invoice's content.
#[derive(Debug, Clone, PartialEq)]
pub struct EInvoice {
    /// Invoice or credit note.
    pub kind: DocumentKind,
    /// BT-1: its number.
    pub number: String,
    /// BT-2: when it was issued.
    pub issue_date: NaiveDate,
    /// BT-9: when it is due.
    pub due_date: Option<NaiveDate>,
    /// BT-5: the currency of every amount.
    pub currency: Currency,
    /// BT-10: the reference the buyer asked to be quoted.
    pub buyer_reference: Option<String>,
    /// BT-13: the buyer's purchase order.
    pub order_reference: Option<String>,
    /// BG-3: the invoice a credit note corrects, with its issue date.
    pub preceding_invoice: Option<(String, Option<NaiveDate>)>,
    /// BT-22: a note for the buyer.
    pub note: Option<String>,
    /// BG-14: the period invoiced.
    pub period: Option<(NaiveDate, NaiveDate)>,
    /// BG-4: who sells.
    pub seller: Party,
    /// BG-7: who buys.
    pub buyer: Party,
    /// BG-13: where and when the supply was delivered.
    pub delivery: Option<Delivery>,
    /// BG-16: how to pay.
    pub payment: Option<PaymentInstructions>,
    /// BT-20: the payment terms in words.
    pub payment_terms: Option<String>,
    /// BG-20: document-level allowances, one per VAT category and rate.
    pub allowances: Vec<Allowance>,
    /// BG-25: the lines.
    pub lines: Vec<Line>,
    /// BG-23: the VAT breakdown, one group per category and rate.
    pub breakdown: Vec<BreakdownGroup>,
    /// BG-22: the totals.
    pub totals: Totals,
}

/// A seller or a buyer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Party {
    /// BT-27 / BT-44: the name.
    pub name: String,
    /// BT-28 / BT-45: a trading name, where it differs from the name.
    pub trading_name: Option<String>,
    /// BT-31 / BT-48: the VAT identifier, with its country prefix.
    pub vat_id: Option<String>,
    /// BT-30 / BT-47: the legal registration identifier.
    pub legal_id: Option<String>,
    /// BT-34 / BT-49: the electronic address, with its scheme (an ISO 6523 ICD or EAS code).
    pub endpoint: Option<Endpoint>,
    /// BG-5 / BG-8: the postal address.
    pub address: Address,
    /// BT-43 / BT-58: an e-mail address for contact.
    pub email: Option<String>,
}

/// An electronic address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The scheme, such as `0088` (GLN) or `9930` (German VAT number).
    pub scheme: String,
    /// The address within it.
    pub id: String,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// BT-35 / BT-50.
    pub line: Option<String>,
    /// BT-36 / BT-51.
    pub second_line: Option<String>,
    /// BT-37 / BT-52.
    pub city: Option<String>,
    /// BT-38 / BT-53.
    pub postal_code: Option<String>,
    /// BT-39 / BT-54.
    pub region: Option<String>,
    /// BT-40 / BT-55: ISO 3166-1 alpha-2, required.
    pub country: String,
}

/// Where and when the supply was delivered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delivery {
    /// BT-72: the day it was delivered.
    pub date: Option<NaiveDate>,
    /// BG-15: where to.
    pub address: Option<Address>,
}

/// How the buyer pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentInstructions {
    /// BT-81: UNCL 4461, `58` for a SEPA credit transfer, `30` for another.
    pub means_code: &'static str,
    /// BT-83: what to quote with the payment.
    pub remittance: Option<String>,
    /// BT-84: the IBAN to pay into.
    pub iban: Option<String>,
    /// BT-85: the account's name.
    pub account_name: Option<String>,
    /// BT-86: the bank's BIC.
    pub bic: Option<String>,
}

/// A document-level allowance: the invoice's discounts on the lines of one category and rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Allowance {
    /// BT-92.
    pub amount: Decimal,
    /// BT-97: why.
    pub reason: String,
    /// BT-95.
    pub category: VatCategory,
    /// BT-96, as a fraction.
    pub rate: Decimal,
}

/// One line.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// BT-126: its identifier within the document.
    pub id: String,
    /// BT-153: the item's name.
    pub name: String,
    /// BT-154: the item's description.
    pub description: Option<String>,
    /// BT-129: how many; negative on an invoice for a credit line.
    pub quantity: Decimal,
    /// BT-146: the net price of one unit, never negative.
    pub unit_price: Decimal,
    /// BT-131: the line's net amount, `quantity * unit price` rounded.
    pub net: Decimal,
    /// BG-26: the period the line covers.
    pub period: Option<(NaiveDate, NaiveDate)>,
    /// BT-151.
    pub category: VatCategory,
    /// BT-152, as a fraction; absent for category `O`.
    pub rate: Decimal,
}

/// One group of the VAT breakdown.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakdownGroup {
    /// BT-118.
    pub category: VatCategory,
    /// BT-119, as a fraction.
    pub rate: Decimal,
    /// BT-116.
    pub taxable: Decimal,
    /// BT-117.
    pub tax: Decimal,
    /// BT-120.
    pub exemption_reason: Option<String>,
    /// BT-121.
    pub exemption_code: Option<ExemptionCode>,
}

/// The document's totals (BG-22).
#[derive(Debug, Clone, PartialEq)]
pub struct Totals {
    /// BT-106: the sum of the lines' net amounts.
    pub lines: Decimal,
    /// BT-107: the sum of the allowances.
    pub allowances: Decimal,
    /// BT-109: the total without VAT.
    pub without_vat: Decimal,
    /// BT-110: the VAT.
    pub vat: Decimal,
    /// BT-112: the total with VAT.
    pub with_vat: Decimal,
    /// BT-113: what was paid already.
    pub paid: Decimal,
    /// BT-115: what is due.
    pub due: Decimal,
}

/// A rate as EN 16931 writes it: a percentage, `0.19` as `19`.
pub fn percent(rate: Decimal) -> Decimal {
    (rate * Decimal::ONE_HUNDRED).normalize()
}
