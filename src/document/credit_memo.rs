//! A credit memo as a printed document, drawn as its invoice is: who sells and who buys (the
//! credited invoice's parties), its number, status, dates and reason, one table row per line,
//! the totals with where the credit went and what is left of it, and its description as notes;
//! "page N of M" at the foot of each page.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::facturx::FacturX;
use super::invoice::parties;
use super::layout::{Align, MARGIN};
use super::sheet::{
    AMOUNT, Cell, Column, DISCOUNT, QUANTITY, Sheet, TABLE, TAX, Total, UNIT_PRICE, values_room,
};
use crate::domain::credit_memo::{CreditLine, CreditMemo, CreditMemoStatus};
use crate::domain::ids::InvoiceId;
use crate::domain::invoice::Invoice;
use crate::domain::organization::{InvoiceTimeZone, Organization};

/// What a credit memo document shows.
#[derive(Debug)]
pub struct CreditMemoDocument<'a> {
    /// The memo.
    pub credit_memo: &'a CreditMemo,
    /// The invoice it credits: its parties are the memo's, its number names it.
    pub invoice: &'a Invoice,
    /// The organization that issues it.
    pub seller: &'a Organization,
}

/// The most lines a line's description takes on the document.
const MAX_LINE_LINES: usize = 12;

/// A memo has no periods: its description takes the room up to the figures.
const DESCRIPTION: Column = Column {
    x: MARGIN,
    width: QUANTITY.x - 4.0 - MARGIN,
    align: Align::Left,
    label: "Description",
};
const COLUMNS: [Column; 6] = [DESCRIPTION, QUANTITY, UNIT_PRICE, DISCOUNT, TAX, AMOUNT];

/// Lays the memo out and writes the PDF (with a Factur-X e-invoice, a PDF/A-3 that carries
/// it, the page unchanged); `None` when `wanted` says, between lines, that nobody waits for it
/// any more.
pub fn render(
    document: &CreditMemoDocument<'_>,
    factur_x: Option<&FacturX<'_>>,
    wanted: &dyn Fn() -> bool,
) -> Result<Option<Vec<u8>>, String> {
    let Some(sheet) = lay_out(document, wanted) else {
        return Ok(None);
    };
    let memo = document.credit_memo;
    let title = format!("Credit memo No. {} · {}", memo.number, memo.id);
    sheet.finish(&title, factur_x, wanted)
}

/// The memo's pages, before their footers; `None` when `wanted` says so between lines.
fn lay_out(document: &CreditMemoDocument<'_>, wanted: &dyn Fn() -> bool) -> Option<Sheet> {
    let memo = document.credit_memo;
    let zone = document.seller.details.invoice_time_zone;
    let mut sheet = Sheet::new(memo.currency.minor_units(), &COLUMNS);
    let mark = (memo.status == CreditMemoStatus::Voided).then_some("Voided");
    let facts = facts(document, zone);
    sheet.heading(
        "Credit memo",
        mark,
        &format!("No. {}", memo.number),
        &facts,
        values_room(&facts),
    );
    sheet.parties(&parties(document.invoice, document.seller));
    sheet.table_header();
    for line in &memo.lines {
        if !wanted() {
            return None;
        }
        sheet.row(&row(&sheet, line));
    }
    sheet.totals(&totals(document));
    if let Some(description) = &memo.description {
        sheet.notes("Notes", description);
    }
    Some(sheet)
}

/// How the memo names an invoice: the credited one by its number when it has one, any other
/// by its id (the memo holds no more of it).
fn invoice_name(document: &CreditMemoDocument<'_>, id: &InvoiceId) -> String {
    match document.invoice.invoice_number {
        Some(number) if *id == document.invoice.id => format!("No. {number}"),
        _ => id.to_string(),
    }
}

/// The facts under the number: id, status, when it was issued (and voided), the invoice it
/// credits, why, the currency and the zone of the dates.
fn facts(document: &CreditMemoDocument<'_>, zone: InvoiceTimeZone) -> Vec<(&'static str, String)> {
    let memo = document.credit_memo;
    let mut facts = vec![
        ("Credit memo", memo.id.to_string()),
        ("Status", memo.status.as_str().to_owned()),
        ("Issued", zone.day(memo.created_time)),
    ];
    if let Some(voided) = memo.voided_time {
        facts.push(("Voided", zone.day(voided)));
    }
    facts.push(("Credits invoice", invoice_name(document, &memo.invoice_id)));
    if let Some(reason) = memo.reason {
        facts.push(("Reason", reason.as_str().to_owned()));
    }
    facts.push(("Currency", memo.currency.code().to_owned()));
    facts.push(("Dates in", zone.name().to_owned()));
    facts
}

/// A line's row: its description and its figures, the amount being its price.
fn row(sheet: &Sheet, line: &CreditLine) -> [Cell; 6] {
    let description = line.description.as_deref().unwrap_or_default();
    let number = |column, text| Cell::Number { column, text };
    [
        Cell::wrapped(DESCRIPTION, TABLE, description, MAX_LINE_LINES),
        number(QUANTITY, line.quantity.to_string()),
        number(UNIT_PRICE, sheet.unit_price(line.unit_price)),
        number(DISCOUNT, sheet.amount(line.discount_amount)),
        number(TAX, sheet.amount(line.tax_amount)),
        number(AMOUNT, sheet.amount(line.price)),
    ]
}

/// Subtotal, discount, each tax by its description, the tax, shipping and the total credit;
/// then where it went, and what is left of it.
fn totals(document: &CreditMemoDocument<'_>) -> Vec<Total> {
    let memo = document.credit_memo;
    let totals = memo.totals;
    let mut lines = vec![
        Total::regular("Subtotal", totals.subtotal_amount),
        Total::regular("Discount", -totals.discount_amount),
    ];
    let mut taxes: BTreeMap<&str, Decimal> = BTreeMap::new();
    for line in &memo.lines {
        if let Some(description) = &line.tax_description {
            *taxes.entry(description).or_default() += line.tax_amount;
        }
    }
    lines.extend(
        taxes
            .into_iter()
            .map(|(description, amount)| Total::regular(description, amount)),
    );
    lines.push(Total::regular("Tax", totals.tax_amount));
    if !totals.shipping_amount.is_zero() {
        lines.push(Total::regular("Shipping", totals.shipping_amount));
    }
    lines.push(Total::bold("Total credit", totals.total_amount));
    for allocation in &memo.allocations {
        // What was given back is allocated to the credited invoice too (as a refund of it):
        // shown once, as given back, the lines add up to what is unused.
        let given_back = if allocation.invoice_id == memo.invoice_id {
            memo.out_of_band_amount
        } else {
            Decimal::ZERO
        };
        let applied = allocation.amount - given_back;
        if applied > Decimal::ZERO {
            let invoice = invoice_name(document, &allocation.invoice_id);
            lines.push(Total::regular(
                format!("Applied to invoice {invoice}"),
                -applied,
            ));
        }
    }
    if memo.out_of_band_amount > Decimal::ZERO {
        lines.push(Total::regular("Given back", -memo.out_of_band_amount));
    }
    lines.push(Total::bold(
        format!("Unused credit ({})", memo.currency.code()),
        memo.unused_amount(),
    ));
    lines
}

#[cfg(test)]
mod tests;
