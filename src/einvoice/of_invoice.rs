//! An issued invoice, or a credit memo of one, as an EN 16931 e-invoice, from the same stored
//! figures its JSON and its PDF show: each item (or memo line) is a line, each category and
//! rate of its VAT a breakdown group whose discounts are a document-level allowance, and the
//! totals are its own.

use rust_decimal::Decimal;

use super::lines::{VatLine, allowances, breakdown, groups, period, totals};
use super::model::{Delivery, DocumentKind, EInvoice, Line};
use super::parties::{address_of, buyer_party, payment, seller_party};
use super::refusal::{Inexpressible, LegalTerm, Reason, Refusal};
use crate::domain::credit_memo::{CreditMemo, CreditMemoStatus};
use crate::domain::invoice::{Invoice, InvoiceStatus};
use crate::domain::invoice_item::{InvoiceItem, ItemType};
use crate::domain::money::round_half_away_from_zero;
use crate::domain::organization::{InvoiceTimeZone, Organization};
use crate::domain::tax::{ItemTax, TaxSettings};
use crate::domain::text::BoundedText;
use crate::domain::vat::{LineVat, VatCategory};

/// What names a line that has no description.
const UNNAMED_LINE: &str = "Item";

/// The e-invoice of `invoice`, or why it has none.
pub fn invoice_einvoice(
    invoice: &Invoice,
    items: &[InvoiceItem],
    seller: &Organization,
) -> Result<EInvoice, Refusal> {
    let refuse = |reason| Refusal {
        document: format!("Invoice {}", invoice.id),
        reason,
    };
    let default = vat_of(invoice).map_err(refuse)?;
    let zone = seller.details.invoice_time_zone;
    let lines =
        item_lines(items, &default, zone).map_err(|why| refuse(Reason::Inexpressible(why)))?;
    let number = number_of(invoice);
    let due_date = invoice.due_time.map(|time| zone.date(time));
    let header = Header {
        kind: DocumentKind::Invoice,
        number: number.clone(),
        issue_date: zone.date(invoice.issued_time.unwrap_or(invoice.created_time)),
        due_date,
        preceding_invoice: None,
        note: invoice.notes.clone(),
        // BR-CO-25: with an amount due, a due date or terms.
        payment_terms: due_date.is_none().then(|| "Due on receipt".to_owned()),
        due: invoice.totals.amount_due,
        pays_by_transfer: true,
    };
    assemble(header, invoice, seller, lines).map_err(refuse)
}

/// The e-invoice of `memo`, a credit note of `invoice` (whose items are `items`), or why it has
/// none. Each line credits an item, in its category at its rate, with its share of the item's
/// discount and VAT: crediting every item gives back the invoice's VAT exactly.
pub fn credit_memo_einvoice(
    memo: &CreditMemo,
    invoice: &Invoice,
    items: &[InvoiceItem],
    seller: &Organization,
) -> Result<EInvoice, Refusal> {
    let refuse = |reason| Refusal {
        document: format!("Credit memo {}", memo.id),
        reason,
    };
    let inexpressible = |why| refuse(Reason::Inexpressible(why));
    let default = vat_of(invoice).map_err(refuse)?;
    if memo.status == CreditMemoStatus::Voided {
        return Err(refuse(Reason::Voided));
    }
    if !memo.totals.shipping_amount.is_zero() {
        return Err(inexpressible(Inexpressible::UncategorizedCredit {
            what: "its shipping".to_owned(),
        }));
    }
    let zone = seller.details.invoice_time_zone;
    let mut lines = Vec::with_capacity(memo.lines.len());
    for (index, line) in memo.lines.iter().enumerate() {
        let item = line
            .invoice_item_id
            .as_ref()
            .and_then(|id| items.iter().find(|item| &item.id == id))
            .ok_or_else(|| {
                inexpressible(Inexpressible::UncategorizedCredit {
                    what: format!("line {}, which credits no item of the invoice,", line.id),
                })
            })?;
        let (category, rate, own) = category_of(item, &default).map_err(inexpressible)?;
        lines.push(VatLine {
            line: Line {
                id: (index + 1).to_string(),
                name: line
                    .description
                    .clone()
                    .unwrap_or_else(|| UNNAMED_LINE.to_owned()),
                description: None,
                quantity: Decimal::from(line.quantity),
                unit_price: line.unit_price,
                net: line.price,
                period: item_period(item, zone),
                category,
                rate,
            },
            allowance: line.discount_amount,
            tax: line.tax_amount,
            exemption: own.exemption().filter(|_| own.category() == category),
        });
    }
    let invoice_number = number_of(invoice);
    let header = Header {
        kind: DocumentKind::CreditNote,
        number: memo.number.to_string(),
        issue_date: zone.date(memo.created_time),
        due_date: None,
        preceding_invoice: Some((
            invoice_number.clone(),
            invoice.issued_time.map(|time| zone.date(time)),
        )),
        note: memo.description.clone(),
        payment_terms: Some(format!("Credited against invoice {invoice_number}")),
        due: memo.totals.total_amount,
        pays_by_transfer: false,
    };
    let document = assemble(header, invoice, seller, lines).map_err(refuse)?;
    if document.totals.with_vat != memo.totals.total_amount {
        return Err(inexpressible(Inexpressible::Unbalanced));
    }
    // Each line gives back its share of its item's VAT, so a group's VAT may be cents from its
    // rate applied once; EN 16931 takes less than one unit of the currency (BR-S-09 and its
    // kin), and past that the memo has no e-invoice rather than an invalid one.
    let places = invoice.currency.minor_units();
    if let Some(group) = document.breakdown.iter().find(|group| {
        let exact = round_half_away_from_zero(group.taxable * group.rate, places);
        (group.tax - exact).abs() >= Decimal::ONE
    }) {
        return Err(inexpressible(Inexpressible::RoundedApart {
            category: group.category,
            rate: group.rate,
        }));
    }
    Ok(document)
}

/// What differs between an invoice's e-invoice and a credit note's.
struct Header {
    kind: DocumentKind,
    number: String,
    issue_date: chrono::NaiveDate,
    due_date: Option<chrono::NaiveDate>,
    preceding_invoice: Option<(String, Option<chrono::NaiveDate>)>,
    note: Option<String>,
    payment_terms: Option<String>,
    /// BT-115.
    due: Decimal,
    /// Whether the buyer pays, into the seller's account (BG-16).
    pays_by_transfer: bool,
}

/// The invoice's default line VAT, when it was issued, is not voided, and is taxed by VAT.
fn vat_of(invoice: &Invoice) -> Result<LineVat, Reason> {
    // A draft abandoned before it was issued never was an invoice either.
    if invoice.status == InvoiceStatus::Draft || invoice.issued_time.is_none() {
        return Err(Reason::Draft);
    }
    if invoice.status == InvoiceStatus::Voided {
        return Err(Reason::Voided);
    }
    let TaxSettings::Vat(rate) = &invoice.tax else {
        return Err(Reason::Inexpressible(Inexpressible::NotVat {
            calculator: invoice.tax.calculator(),
        }));
    };
    if invoice.currency.minor_units() > 2 {
        return Err(Reason::Inexpressible(Inexpressible::CurrencyTooPrecise {
            currency: invoice.currency.code(),
        }));
    }
    Ok(LineVat::standard(*rate))
}

fn number_of(invoice: &Invoice) -> String {
    invoice
        .invoice_number
        .map_or_else(|| invoice.id.to_string(), |number| number.to_string())
}

/// An item's category and rate, as its VAT share states them (a debit) or as its own VAT or
/// the invoice's default says (a credit, never taxed), with the VAT that gives them.
fn category_of<'a>(
    item: &'a InvoiceItem,
    default: &'a LineVat,
) -> Result<(VatCategory, Decimal, &'a LineVat), Inexpressible> {
    let own = item.vat.as_ref().unwrap_or(default);
    match (&item.tax, item.item_type) {
        (Some(ItemTax::Vat(share)), ItemType::Debit) => Ok((share.category, share.rate, own)),
        (_, ItemType::Credit) => Ok((own.category(), own.rate(), own)),
        (_, ItemType::Debit) => Err(Inexpressible::ManualTax {
            item: item.id.to_string(),
        }),
    }
}

fn item_period(
    item: &InvoiceItem,
    zone: InvoiceTimeZone,
) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
    match (item.period_start_time, item.period_end_time) {
        (Some(start), Some(end)) => Some((zone.date(start), zone.date(end))),
        _ => None,
    }
}

fn item_lines<'a>(
    items: &'a [InvoiceItem],
    default: &'a LineVat,
    zone: InvoiceTimeZone,
) -> Result<Vec<VatLine<'a>>, Inexpressible> {
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let (category, rate, own) = category_of(item, default)?;
            let (sign, allowance, tax) = match item.item_type {
                ItemType::Debit => (
                    Decimal::ONE,
                    item.discount_amount,
                    item.tax.as_ref().map_or(Decimal::ZERO, ItemTax::amount),
                ),
                // A credit is never taxed: it lowers its category's VAT.
                ItemType::Credit => (Decimal::NEGATIVE_ONE, Decimal::ZERO, Decimal::ZERO),
            };
            Ok(VatLine {
                line: Line {
                    id: (index + 1).to_string(),
                    name: item
                        .description
                        .as_ref()
                        .map_or(UNNAMED_LINE, BoundedText::as_str)
                        .to_owned(),
                    description: None,
                    quantity: sign * Decimal::from(item.quantity.get()),
                    unit_price: item.unit_price.amount(),
                    net: sign * item.price,
                    period: item_period(item, zone),
                    category,
                    rate,
                },
                allowance,
                tax,
                exemption: own.exemption().filter(|_| own.category() == category),
            })
        })
        .collect()
}

/// The document from its lines: the groups and totals, the parties, and what each category
/// requires of them.
fn assemble(
    header: Header,
    invoice: &Invoice,
    seller: &Organization,
    lines: Vec<VatLine<'_>>,
) -> Result<EInvoice, Reason> {
    let inexpressible = Reason::Inexpressible;
    if lines.is_empty() {
        return Err(inexpressible(Inexpressible::NoLines));
    }
    let groups = groups(&lines).map_err(inexpressible)?;
    let categories: Vec<VatCategory> = groups.iter().map(|group| group.category).collect();
    let outside_scope = categories.contains(&VatCategory::OutsideScope);
    if outside_scope && categories.len() > 1 {
        return Err(inexpressible(Inexpressible::OutsideScopeMixed));
    }

    let mut missing = Vec::new();
    let mut seller_party = seller_party(invoice, seller, &mut missing);
    let mut buyer = buyer_party(invoice, &mut missing);
    // BR-O-02: outside the scope of VAT, no VAT identifier is stated.
    if outside_scope {
        seller_party.vat_id = None;
        buyer.vat_id = None;
        // BR-CO-26: then the registration identifies the seller.
        if seller_party.legal_id.is_none() {
            missing.push(LegalTerm::SellerRegistration);
        }
    } else if seller_party.vat_id.is_none() && !missing.contains(&LegalTerm::SellerVatIdMalformed) {
        missing.push(LegalTerm::SellerVatId);
    }
    let needs_buyer_vat = categories.iter().any(|category| {
        matches!(
            category,
            VatCategory::ReverseCharge | VatCategory::IntraCommunity
        )
    });
    if needs_buyer_vat && buyer.vat_id.is_none() {
        missing.push(LegalTerm::BuyerVatId);
    }
    let delivery = invoice
        .parties
        .delivery_address
        .as_ref()
        .and_then(address_of)
        .map(|address| Delivery {
            date: None,
            address: Some(address),
        });
    let period = period(&lines);
    if categories.contains(&VatCategory::IntraCommunity) {
        // BR-IC-11, BR-IC-12.
        if period.is_none() {
            missing.push(LegalTerm::InvoicePeriod);
        }
        if delivery.is_none() {
            missing.push(LegalTerm::DeliveryCountry);
        }
    }
    if !missing.is_empty() {
        return Err(Reason::Incomplete(missing));
    }

    let totals = totals(&lines, &groups, header.due);
    let payment = header
        .pays_by_transfer
        .then(|| payment(seller, invoice.currency, &header.number))
        .flatten();
    Ok(EInvoice {
        kind: header.kind,
        number: header.number,
        issue_date: header.issue_date,
        due_date: header.due_date,
        currency: invoice.currency,
        buyer_reference: invoice
            .parties
            .buyer_reference
            .as_ref()
            .map(|reference| reference.as_str().to_owned()),
        order_reference: invoice.po_number.clone(),
        preceding_invoice: header.preceding_invoice,
        note: header.note,
        period,
        delivery,
        payment,
        payment_terms: header.payment_terms,
        seller: seller_party,
        buyer,
        allowances: allowances(&groups),
        breakdown: breakdown(&groups),
        lines: lines.into_iter().map(|line| line.line).collect(),
        totals,
    })
}
