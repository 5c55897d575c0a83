//! An invoice as a printed document: who sells and who buys, its number, status and dates,
//! one table row per item (the header repeated on every page), the discounts, each tax
//! component with its rate, the totals and the notes; "page N of M" at the foot of each page.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::format;
use super::layout::{Align, MARGIN, PAGE_HEIGHT, PAGE_WIDTH, Pages, Weight, at_most, wrap};
use crate::domain::contact::{ContactAddress, TaxIdNumber};
use crate::domain::discount::DiscountKind;
use crate::domain::invoice::{Invoice, InvoiceStatus};
use crate::domain::invoice_item::{InvoiceItem, ItemType};
use crate::domain::organization::{InvoiceTimeZone, Organization};
use crate::domain::tax::ItemTax;

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

impl InvoiceDocument<'_> {
    /// The blocks of the parties: the seller (its details, the invoice's organization tax
    /// number), the buyer (the billing address, the customer and website ids, the customer's
    /// tax number) and, when there is one, the delivery address.
    fn parties(&self) -> Vec<(&'static str, Vec<String>)> {
        let parties = &self.invoice.parties;
        let mut seller = self.seller.details.document_lines(&self.seller.id);
        seller.extend(
            parties
                .organization_tax_id
                .as_ref()
                .map(TaxIdNumber::document_line),
        );
        let mut buyer = parties
            .billing_address
            .as_ref()
            .map(ContactAddress::document_lines)
            .unwrap_or_default();
        buyer.push(format!("Customer {}", self.invoice.customer_id));
        buyer.push(format!("Website {}", self.invoice.website_id));
        buyer.extend(
            parties
                .customer_tax_id
                .as_ref()
                .map(TaxIdNumber::document_line),
        );
        let mut blocks = vec![("From", seller), ("Bill to", buyer)];
        if let Some(delivery) = &parties.delivery_address {
            blocks.push(("Ship to", delivery.document_lines()));
        }
        blocks
    }
}

const BODY: f32 = 9.0;
const TABLE: f32 = 8.0;
const SMALL: f32 = 7.5;
const RIGHT: f32 = PAGE_WIDTH - MARGIN;
/// Where the content of a page must end, above the footer.
const BOTTOM: f32 = PAGE_HEIGHT - MARGIN - 14.0;
const ROW: f32 = 10.5;
/// The most lines a party's block, or an item's description, takes on the document.
const MAX_BLOCK_LINES: usize = 16;
const MAX_ITEM_LINES: usize = 12;

/// A column of the item table: its left edge and width; numbers end at its right edge.
#[derive(Clone, Copy)]
struct Column {
    x: f32,
    width: f32,
}

impl Column {
    const fn right(self) -> f32 {
        self.x + self.width
    }
}

const DESCRIPTION: Column = Column {
    x: MARGIN,
    width: 150.0,
};
const PERIOD: Column = Column {
    x: 202.0,
    width: 92.0,
};
const QUANTITY: Column = Column {
    x: 298.0,
    width: 32.0,
};
const UNIT_PRICE: Column = Column {
    x: 334.0,
    width: 58.0,
};
const DISCOUNT: Column = Column {
    x: 396.0,
    width: 50.0,
};
const TAX: Column = Column {
    x: 450.0,
    width: 46.0,
};
const AMOUNT: Column = Column {
    x: 500.0,
    width: RIGHT - 500.0,
};

/// Lays the invoice out and writes the PDF; `None` when `wanted` says, between items, that
/// nobody waits for it any more (a long invoice takes seconds).
pub fn render(
    document: &InvoiceDocument<'_>,
    wanted: &dyn Fn() -> bool,
) -> Result<Option<Vec<u8>>, String> {
    let mut layout = Layout {
        pages: Pages::default(),
        y: MARGIN,
        minor_units: document.invoice.currency.minor_units(),
        time_zone: document.seller.details.invoice_time_zone,
    };
    layout.pages.new_page();
    layout.heading(document);
    layout.parties(document);
    layout.table_header();
    for item in document.items {
        if !wanted() {
            return Ok(None);
        }
        layout.item(item);
    }
    layout.totals(document);
    layout.notes(document);
    let title = format!(
        "Invoice {} · {}",
        document_number(document.invoice),
        document.invoice.id
    );
    let count = layout.pages.count();
    for page in 0..count {
        let footer_y = PAGE_HEIGHT - MARGIN + 6.0;
        layout
            .pages
            .text_on(page, MARGIN, footer_y, SMALL, Align::Left, &title);
        let numbering = format!("Page {} of {count}", page + 1);
        layout
            .pages
            .text_on(page, RIGHT, footer_y, SMALL, Align::Right, &numbering);
    }
    if !wanted() {
        return Ok(None);
    }
    layout.pages.into_pdf(&title).map(Some)
}

/// How the document names the invoice: by its number once it has one, else "Draft" while it
/// is one, else (issued before invoices were numbered) by its id.
fn document_number(invoice: &Invoice) -> String {
    match invoice.invoice_number {
        Some(number) => format!("No. {number}"),
        None if invoice.status == InvoiceStatus::Draft => "Draft".to_owned(),
        None => invoice.id.to_string(),
    }
}

struct Layout {
    pages: Pages,
    /// The baseline of the next line, from the top of the page.
    y: f32,
    minor_units: u32,
    time_zone: InvoiceTimeZone,
}

impl Layout {
    fn amount(&self, amount: Decimal) -> String {
        format::amount(amount, self.minor_units)
    }

    fn heading(&mut self, document: &InvoiceDocument<'_>) {
        let invoice = document.invoice;
        self.y += 18.0;
        self.pages
            .text(MARGIN, self.y, 22.0, Weight::Bold, Align::Left, "Invoice");
        if invoice.status == InvoiceStatus::Paid {
            self.pages.text(
                MARGIN + 100.0,
                self.y,
                22.0,
                Weight::Bold,
                Align::Left,
                "Paid",
            );
        }
        let number = document_number(invoice);
        self.pages
            .text(RIGHT, self.y, 12.0, Weight::Bold, Align::Right, &number);
        let mut facts = vec![
            ("Invoice", invoice.id.to_string()),
            ("Status", invoice.status.as_str().to_owned()),
        ];
        let zone = self.time_zone;
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
        facts.push(("Currency", invoice.currency.code().to_owned()));
        if invoice.issued_time.is_some() || invoice.due_time.is_some() {
            facts.push(("Dates in", zone.name().to_owned()));
        }
        for (label, value) in facts {
            self.y += 12.0;
            self.pages.text(
                RIGHT - 120.0,
                self.y,
                BODY,
                Weight::Bold,
                Align::Right,
                label,
            );
            self.pages
                .text(RIGHT, self.y, BODY, Weight::Regular, Align::Right, &value);
        }
        self.y += 24.0;
    }

    fn parties(&mut self, document: &InvoiceDocument<'_>) {
        let blocks = document.parties();
        let column = (RIGHT - MARGIN) / blocks.len() as f32;
        let top = self.y;
        let mut bottom = top;
        for (index, (label, lines)) in blocks.iter().enumerate() {
            let x = MARGIN + column * index as f32;
            let mut y = top;
            self.pages
                .text(x, y, BODY, Weight::Bold, Align::Left, label);
            let mut parts = Vec::new();
            for (index, line) in lines.iter().enumerate() {
                let weight = if index == 0 {
                    Weight::Bold
                } else {
                    Weight::Regular
                };
                let wrapped = wrap(line, BODY, weight, column - 10.0);
                parts.extend(wrapped.into_iter().map(|part| (weight, part)));
            }
            // A block keeps to the top of the first page, whatever a client puts in it.
            let (total, shown) = (parts.len(), parts.len().min(MAX_BLOCK_LINES));
            for (index, (weight, part)) in parts.into_iter().take(shown).enumerate() {
                let cut = index + 1 == shown && total > shown;
                let part = if cut { format!("{part} …") } else { part };
                y += 12.0;
                self.pages.text(x, y, BODY, weight, Align::Left, &part);
            }
            bottom = bottom.max(y);
        }
        self.y = bottom + 28.0;
    }

    fn table_header(&mut self) {
        for (column, align, label) in [
            (DESCRIPTION, Align::Left, "Description"),
            (PERIOD, Align::Left, "Period"),
            (QUANTITY, Align::Right, "Qty"),
            (UNIT_PRICE, Align::Right, "Unit price"),
            (DISCOUNT, Align::Right, "Discount"),
            (TAX, Align::Right, "Tax"),
            (AMOUNT, Align::Right, "Amount"),
        ] {
            let x = match align {
                Align::Left => column.x,
                Align::Right => column.right(),
            };
            self.pages
                .text(x, self.y, TABLE, Weight::Bold, align, label);
        }
        self.y += 4.0;
        self.pages.rule(MARGIN, self.y, RIGHT - MARGIN, 0.8);
        self.y += ROW;
    }

    /// Room for `height` more on this page, or a new page with the table header again.
    fn make_room(&mut self, height: f32, with_header: bool) {
        if self.y + height > BOTTOM {
            self.pages.new_page();
            self.y = MARGIN + 10.0;
            if with_header {
                self.table_header();
            }
        }
    }

    fn item(&mut self, item: &InvoiceItem) {
        let mut description = item
            .description
            .as_ref()
            .map(|text| text.as_str().to_owned())
            .unwrap_or_default();
        if item.item_type == ItemType::Credit {
            description = format!("{description} (credit)").trim_start().to_owned();
        }
        let lines = at_most(
            wrap(&description, TABLE, Weight::Regular, DESCRIPTION.width),
            MAX_ITEM_LINES,
        );
        let period = format::period(self.time_zone, item.period_start_time, item.period_end_time);
        let period_lines = at_most(wrap(&period, SMALL, Weight::Regular, PERIOD.width), 3);
        let height = ROW * lines.len().max(period_lines.len()) as f32 + 2.0;
        self.make_room(height, true);
        let top = self.y;
        for (index, line) in lines.iter().enumerate() {
            let y = top + ROW * index as f32;
            self.pages
                .text(DESCRIPTION.x, y, TABLE, Weight::Regular, Align::Left, line);
        }
        for (index, line) in period_lines.iter().enumerate() {
            let y = top + ROW * index as f32;
            self.pages
                .text(PERIOD.x, y, SMALL, Weight::Regular, Align::Left, line);
        }
        let sign = if item.item_type == ItemType::Credit {
            -Decimal::ONE
        } else {
            Decimal::ONE
        };
        let tax = item.tax.as_ref().map_or(Decimal::ZERO, ItemTax::amount);
        let cells = [
            (QUANTITY, item.quantity.get().to_string()),
            (
                UNIT_PRICE,
                format::unit_price(item.unit_price.amount(), self.minor_units),
            ),
            (DISCOUNT, self.amount(item.discount_amount)),
            (TAX, self.amount(tax)),
            (AMOUNT, self.amount(sign * item.price)),
        ];
        for (column, text) in cells {
            self.number(column, top, &text);
        }
        self.y = top + height;
    }

    /// A number ending at the column's right edge, made smaller if it would not fit.
    fn number(&mut self, column: Column, y: f32, text: &str) {
        let wide = super::layout::width(text, TABLE, Weight::Regular);
        let size = if wide > column.width {
            TABLE * column.width / wide
        } else {
            TABLE
        };
        self.pages
            .text(column.right(), y, size, Weight::Regular, Align::Right, text);
    }

    fn totals(&mut self, document: &InvoiceDocument<'_>) {
        let invoice = document.invoice;
        let totals = invoice.totals;
        let mut lines: Vec<(String, String, Weight)> = vec![(
            "Subtotal".to_owned(),
            self.amount(totals.subtotal_amount),
            Weight::Regular,
        )];
        for applied in &invoice.discounts {
            let discount = &applied.discount;
            let value = match discount.kind {
                DiscountKind::Percent => format!("{}%", discount.value().normalize()),
                DiscountKind::Fixed => self.amount(discount.value()),
            };
            let label = match &discount.description {
                Some(description) => format!("Discount: {} ({value})", description.as_str()),
                None => format!("Discount ({value})"),
            };
            lines.push((label, self.amount(-applied.amount), Weight::Regular));
        }
        for (label, amount) in tax_lines(document.items) {
            lines.push((label, self.amount(amount), Weight::Regular));
        }
        lines.push((
            "Tax".to_owned(),
            self.amount(totals.tax_amount),
            Weight::Regular,
        ));
        lines.push(("Total".to_owned(), self.amount(totals.amount), Weight::Bold));
        let payments = &invoice.payments;
        if !payments.paid_amount.is_zero() {
            lines.push((
                "Payments".to_owned(),
                self.amount(-payments.paid_amount),
                Weight::Regular,
            ));
        }
        if !payments.refunded_amount.is_zero() {
            lines.push((
                "Refunds".to_owned(),
                self.amount(payments.refunded_amount),
                Weight::Regular,
            ));
        }
        lines.push((
            format!("Amount due ({})", invoice.currency.code()),
            self.amount(totals.amount_due),
            Weight::Bold,
        ));
        self.y += 6.0;
        // Together when they fit on a page; a longer list (many manual taxes) flows over.
        self.make_room(
            (14.0 * lines.len() as f32 + 8.0).min(BOTTOM - MARGIN - 40.0),
            false,
        );
        self.pages
            .rule(MARGIN, self.y - ROW + 2.0, RIGHT - MARGIN, 0.5);
        self.y += 6.0;
        let label_width = AMOUNT.x - 12.0 - PAGE_WIDTH / 2.0;
        for (label, amount, weight) in lines {
            let label = at_most(wrap(&label, BODY, weight, label_width), 1).remove(0);
            self.make_room(14.0, false);
            self.pages
                .text(AMOUNT.x - 12.0, self.y, BODY, weight, Align::Right, &label);
            self.pages
                .text(RIGHT, self.y, BODY, weight, Align::Right, &amount);
            self.y += 14.0;
        }
    }

    fn notes(&mut self, document: &InvoiceDocument<'_>) {
        let Some(notes) = &document.invoice.notes else {
            return;
        };
        self.y += 10.0;
        self.make_room(30.0, false);
        self.pages
            .text(MARGIN, self.y, BODY, Weight::Bold, Align::Left, "Notes");
        for line in wrap(notes, BODY, Weight::Regular, RIGHT - MARGIN) {
            self.y += 12.0;
            self.make_room(12.0, false);
            self.pages
                .text(MARGIN, self.y, BODY, Weight::Regular, Align::Left, &line);
        }
    }
}

/// Each tax component with its rate, summed over the items: computed taxes by component
/// (state, county, city, special district) and rate, manual ones by description.
fn tax_lines(items: &[InvoiceItem]) -> Vec<(String, Decimal)> {
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
        .chain(manual)
        .collect()
}
