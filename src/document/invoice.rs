//! An invoice as a printed document: who sells and who buys, its number, status and dates,
//! one table row per item (the header repeated on every page), the discounts, each tax
//! component with its rate, the totals and the notes; "page N of M" at the foot of each page.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::facturx::FacturX;
use super::format;
use super::layout::{Align, MARGIN};
use super::sheet::{
    AMOUNT, Cell, Column, DISCOUNT, FACT_VALUES, Party, QUANTITY, SMALL, Sheet, TABLE, TAX, Total,
    UNIT_PRICE,
};
use crate::domain::contact::{ContactAddress, TaxIdNumber};
use crate::domain::discount::DiscountKind;
use crate::domain::invoice::{Invoice, InvoiceStatus};
use crate::domain::invoice_item::{InvoiceItem, ItemType};
use crate::domain::organization::{InvoiceTimeZone, Organization};
use crate::domain::tax::ItemTax;
use crate::domain::vat::VatCategory;
use crate::domain::vat_totals::{VatTotal, vat_totals};

/// What an invoice document shows.
#[derive(Debug)]
pub struct InvoiceDocument<'a> {
    /// The invoice.
    pub invoice: &'a Invoice,
    /// Its items, in the order they are shown.
    pub items: &'a [InvoiceItem],
    /// The organization that issues it.
    pub seller: &'a Organization,
}

/// The blocks of the parties: the seller (its details, the invoice's organization tax number
/// or else the organization's VAT number), the buyer (the billing address, the customer and
/// website ids, the customer's tax number), when there is one the delivery address, and when
/// the organization gives its bank account, where to pay. Every document of the invoice shows
/// them.
pub(super) fn parties(invoice: &Invoice, seller: &Organization) -> Vec<Party> {
    let parties = &invoice.parties;
    let mut seller_lines = seller.details.document_lines(&seller.id);
    seller_lines.extend(
        parties
            .organization_tax_id
            .as_ref()
            .map(TaxIdNumber::document_line)
            .or_else(|| seller.details.vat_line()),
    );
    let mut buyer = parties
        .billing_address
        .as_ref()
        .map(ContactAddress::document_lines)
        .unwrap_or_default();
    buyer.push(format!("Customer {}", invoice.customer_id));
    buyer.push(format!("Website {}", invoice.website_id));
    buyer.extend(
        parties
            .customer_tax_id
            .as_ref()
            .map(TaxIdNumber::document_line),
    );
    let mut blocks = vec![("From", seller_lines), ("Bill to", buyer)];
    if let Some(delivery) = &parties.delivery_address {
        blocks.push(("Ship to", delivery.document_lines()));
    }
    let payment = seller.details.payment_lines();
    if !payment.is_empty() {
        blocks.push(("Pay to", payment));
    }
    blocks
}

/// The most lines an item's description takes on the document.
const MAX_ITEM_LINES: usize = 12;

const DESCRIPTION: Column = Column {
    x: MARGIN,
    width: 150.0,
    align: Align::Left,
    label: "Description",
};
const PERIOD: Column = Column {
    x: 202.0,
    width: 92.0,
    align: Align::Left,
    label: "Period",
};
const COLUMNS: [Column; 7] = [
    DESCRIPTION,
    PERIOD,
    QUANTITY,
    UNIT_PRICE,
    DISCOUNT,
    TAX,
    AMOUNT,
];

/// Lays the invoice out and writes the PDF (with a Factur-X e-invoice, a PDF/A-3 that carries
/// it, the page unchanged); `None` when `wanted` says, between items, that nobody waits for it
/// any more.
pub fn render(
    document: &InvoiceDocument<'_>,
    factur_x: Option<&FacturX<'_>>,
    wanted: &dyn Fn() -> bool,
) -> Result<Option<Vec<u8>>, String> {
    let Some(sheet) = lay_out(document, wanted) else {
        return Ok(None);
    };
    let title = format!(
        "Invoice {} · {}",
        document_number(document.invoice),
        document.invoice.id
    );
    sheet.finish(&title, factur_x, wanted)
}

/// The invoice's pages, before their footers; `None` when `wanted` says so between items.
fn lay_out(document: &InvoiceDocument<'_>, wanted: &dyn Fn() -> bool) -> Option<Sheet> {
    let invoice = document.invoice;
    let zone = document.seller.details.invoice_time_zone;
    let mut sheet = Sheet::new(invoice.currency.minor_units(), &COLUMNS);
    let mark = (invoice.status == InvoiceStatus::Paid).then_some("Paid");
    sheet.heading(
        "Invoice",
        mark,
        &document_number(invoice),
        &facts(invoice, zone),
        // The labels stay where invoices have always had them, even when a long id runs
        // under them; `values_room` would move them clear of it.
        FACT_VALUES,
    );
    sheet.parties(&parties(invoice, document.seller));
    sheet.table_header();
    for item in document.items {
        if !wanted() {
            return None;
        }
        sheet.row(&row(&sheet, zone, item));
    }
    sheet.totals(&totals(document));
    // An invoice that charges no VAT on a supply says why (EN 16931 BT-120, BT-121).
    let exemptions: Vec<String> = vat_totals(&invoice.tax, document.items)
        .into_iter()
        .filter_map(|total| {
            let words = total.exemption?;
            Some(format!(
                "{} {}: {words}",
                total.category.code(),
                format::rate(total.rate)
            ))
        })
        .collect();
    if !exemptions.is_empty() {
        sheet.notes("VAT exemptions", &exemptions.join("; "));
    }
    if let Some(notes) = &invoice.notes {
        sheet.notes("Notes", notes);
    }
    Some(sheet)
}

/// How the document names the invoice: by its number once it has one, else "Draft" while it
/// is one, else (issued before invoices were numbered) by its id.
pub(super) fn document_number(invoice: &Invoice) -> String {
    match invoice.invoice_number {
        Some(number) => format!("No. {number}"),
        None if invoice.status == InvoiceStatus::Draft => "Draft".to_owned(),
        None => invoice.id.to_string(),
    }
}

/// The facts under the number: id, status, the dates it has, the PO number, the buyer's
/// reference, the currency and the zone of the dates.
pub(super) fn facts(invoice: &Invoice, zone: InvoiceTimeZone) -> Vec<(&'static str, String)> {
    let mut facts = vec![
        ("Invoice", invoice.id.to_string()),
        ("Status", invoice.status.as_str().to_owned()),
    ];
    if let Some(issued) = invoice.issued_time {
        facts.push(("Issued", zone.day(issued)));
    }
    if let Some(due) = invoice.due_time {
        facts.push(("Due", zone.day(due)));
    }
    if let Some(paid) = invoice.payments.paid_time {
        facts.push(("Paid", zone.day(paid)));
    }
    if let Some(po_number) = &invoice.po_number {
        facts.push(("PO number", po_number.clone()));
    }
    if let Some(reference) = &invoice.parties.buyer_reference {
        facts.push(("Reference", reference.as_str().to_owned()));
    }
    facts.push(("Currency", invoice.currency.code().to_owned()));
    if invoice.issued_time.is_some() || invoice.due_time.is_some() {
        facts.push(("Dates in", zone.name().to_owned()));
    }
    facts
}

/// An item's row: its description (marked when a credit), its period, and its figures, a
/// credit's amount negative.
fn row(sheet: &Sheet, zone: InvoiceTimeZone, item: &InvoiceItem) -> [Cell; 7] {
    let line = LineText::of(item, zone, sheet.minor_units());
    let number = |column, text| Cell::Number { column, text };
    [
        Cell::wrapped(DESCRIPTION, TABLE, &line.description, MAX_ITEM_LINES),
        Cell::wrapped(PERIOD, SMALL, &line.period, 3),
        number(QUANTITY, line.quantity),
        number(UNIT_PRICE, line.unit_price),
        number(DISCOUNT, line.discount),
        number(TAX, line.tax),
        number(AMOUNT, line.amount),
    ]
}

/// An item's line as every rendering of the invoice shows it, column by column: a credit
/// marked, and its amount negative.
pub(super) struct LineText {
    pub description: String,
    pub period: String,
    pub quantity: String,
    pub unit_price: String,
    pub discount: String,
    pub tax: String,
    pub amount: String,
}

impl LineText {
    pub fn of(item: &InvoiceItem, zone: InvoiceTimeZone, minor_units: u32) -> Self {
        let mut description = item
            .description
            .as_ref()
            .map(|text| text.as_str().to_owned())
            .unwrap_or_default();
        let sign = if item.item_type == ItemType::Credit {
            description = format!("{description} (credit)").trim_start().to_owned();
            -Decimal::ONE
        } else {
            Decimal::ONE
        };
        let tax = item.tax.as_ref().map_or(Decimal::ZERO, ItemTax::amount);
        Self {
            description,
            period: format::period(zone, item.period_start_time, item.period_end_time),
            quantity: item.quantity.get().to_string(),
            unit_price: format::unit_price(item.unit_price.amount(), minor_units),
            discount: format::amount(item.discount_amount, minor_units),
            tax: format::amount(tax, minor_units),
            amount: format::amount(sign * item.price, minor_units),
        }
    }
}

/// Subtotal, each discount, each tax component, the tax and the total, then the payments and
/// refunds and what is left due.
pub(super) fn totals(document: &InvoiceDocument<'_>) -> Vec<Total> {
    let invoice = document.invoice;
    let totals = invoice.totals;
    let minor_units = invoice.currency.minor_units();
    let mut lines = vec![Total::regular("Subtotal", totals.subtotal_amount)];
    for applied in &invoice.discounts {
        let discount = &applied.discount;
        let value = match discount.kind {
            DiscountKind::Percent => format!("{}%", discount.value().normalize()),
            DiscountKind::Fixed => format::amount(discount.value(), minor_units),
        };
        let label = match &discount.description {
            Some(description) => format!("Discount: {} ({value})", description.as_str()),
            None => format!("Discount ({value})"),
        };
        lines.push(Total::regular(label, -applied.amount));
    }
    for (label, amount) in tax_lines(document.invoice, document.items) {
        lines.push(Total::regular(label, amount));
    }
    lines.push(Total::regular("Tax", totals.tax_amount));
    lines.push(Total::bold("Total", totals.amount));
    let payments = &invoice.payments;
    if !payments.paid_amount.is_zero() {
        lines.push(Total::regular("Payments", -payments.paid_amount));
    }
    if !payments.refunded_amount.is_zero() {
        lines.push(Total::regular("Refunds", payments.refunded_amount));
    }
    if !payments.credited_amount.is_zero() {
        lines.push(Total::regular("Credit memos", -payments.credited_amount));
    }
    lines.push(Total::bold(
        format!("Amount due ({})", invoice.currency.code()),
        totals.amount_due,
    ));
    lines
}

/// Each tax component with its rate, summed over the items: computed taxes by component
/// (state, county, city, special district) and rate, VAT by category and rate with the amount
/// it is on, manual ones by description.
fn tax_lines(invoice: &Invoice, items: &[InvoiceItem]) -> Vec<(String, Decimal)> {
    let mut computed: BTreeMap<(usize, Decimal), Decimal> = BTreeMap::new();
    let mut manual: BTreeMap<String, Decimal> = BTreeMap::new();
    const COMPONENTS: [&str; 4] = [
        "State tax",
        "County tax",
        "City tax",
        "Special district tax",
    ];
    for item in items {
        match &item.tax {
            Some(ItemTax::Computed(tax)) => {
                let components = [tax.state, tax.county, tax.city, tax.special_district];
                for (index, component) in components.into_iter().enumerate() {
                    if !component.rate.is_zero() {
                        *computed.entry((index, component.rate)).or_default() += component.amount;
                    }
                }
            }
            // VAT comes whole from the breakdown below, credits and all.
            Some(ItemTax::Vat(_)) => {}
            Some(ItemTax::Manual(tax)) => {
                *manual.entry(tax.description().to_owned()).or_default() += tax.amount();
            }
            None => {}
        }
    }
    computed
        .into_iter()
        .map(|((index, rate), amount)| {
            (
                format!("{} {}", COMPONENTS[index], format::rate(rate)),
                amount,
            )
        })
        .chain(
            vat_totals(&invoice.tax, items)
                .into_iter()
                .map(|total| (vat_label(invoice, &total), total.tax)),
        )
        .chain(manual)
        .collect()
}

/// `VAT 19% on 80.00`: the rate and the amount it is on, as an EU invoice must state them; the
/// category's code where it is not the standard one.
fn vat_label(invoice: &Invoice, total: &VatTotal) -> String {
    let on = format::amount(total.taxable, invoice.currency.minor_units());
    match total.category {
        VatCategory::Standard => format!("VAT {} on {on}", format::rate(total.rate)),
        other => format!(
            "VAT {} ({}) on {on}",
            format::rate(total.rate),
            other.code()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::tests::{invoice, items, line_of, organization, page_count, text_of};

    #[test]
    fn a_long_invoice_flows_over_pages_with_its_totals_on_the_last() {
        let (invoice, items, seller) = (invoice(), items(120), organization());
        let document = InvoiceDocument {
            invoice: &invoice,
            items: &items,
            seller: &seller,
        };
        let pdf = render(&document, None, &|| true).unwrap().expect("wanted");
        assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
        // 120 rows, most of them of two lines (the period wraps): five pages.
        assert_eq!(page_count(&pdf), 5);
        let text = text_of(&pdf);
        assert!(line_of(&text, "Invoice").contains("Paid"), "{text}");
        assert!(
            line_of(&text, "Amount due (USD)").ends_with("0.00"),
            "{text}"
        );
        assert!(text.contains("Page 5 of 5") && text.contains("Invoice No. 42 · in_doc"));
        assert_eq!(render(&document, None, &|| false), Ok(None));
    }
}
