//! An issued invoice as a web page for its customer: the figures of its PDF (the same
//! parties, facts, lines and totals), "Paid" once it is, and a link to the PDF. Plain HTML
//! with its style inline: no script, no outside resource, readable by a screen reader (a
//! language, headings, tables with headers and captions, text in a contrast of at least
//! 7:1).

use std::fmt::Write;

use rust_decimal::Decimal;

use super::format;
use super::invoice::{InvoiceDocument, LineText, document_number, facts, parties, totals};
use super::layout::Weight;
use crate::domain::invoice::InvoiceStatus;
use crate::domain::invoice_item::InvoiceItem;

const STYLE: &str = "body{margin:0;background:#f4f4f5;color:#18181b;font:16px/1.5 system-ui,\
sans-serif}main{max-width:52rem;margin:2rem auto;padding:2rem;background:#fff;border:1px solid \
#d4d4d8}h1{margin:0;font-size:1.75rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}.status{\
display:inline-block;margin:.5rem 0;padding:.1rem .6rem;border:2px solid #14532d;color:#14532d;\
font-weight:700}.due{font-size:1.25rem;font-weight:700}.parties{display:flex;flex-wrap:wrap;\
gap:2rem}.parties p{margin:0}dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem \
1rem;margin:0}dt{font-weight:600}dd{margin:0}table{width:100%;border-collapse:collapse;margin:\
.5rem 0}caption{text-align:left;font-weight:600;padding:.25rem 0}th,td{padding:.35rem .5rem;\
border-bottom:1px solid #d4d4d8;text-align:left;vertical-align:top}.number{text-align:right;\
white-space:nowrap}.totals th{font-weight:400}.strong th,.strong td{font-weight:700}h3{font-size:1rem;margin:0 0 .25rem}a{color:#1e3a8a}";

/// Where the page's downloads are.
#[derive(Debug, Clone, Copy)]
pub struct Downloads<'a> {
    /// The invoice's PDF.
    pub pdf: &'a str,
    /// Its e-invoice, when it has one: the XML the buyer's accounting system reads.
    pub einvoice: Option<&'a str>,
}

/// The page, with links to what the customer may download.
pub fn render(document: &InvoiceDocument<'_>, downloads: Downloads<'_>) -> String {
    let invoice = document.invoice;
    let zone = document.seller.details.invoice_time_zone;
    let minor_units = invoice.currency.minor_units();
    let amount = |value: Decimal| format::amount(value, minor_units);
    let seller = document.seller.details.name.as_ref().map_or_else(
        || document.seller.id.to_string(),
        |name| name.as_str().to_owned(),
    );
    let number = document_number(invoice);
    let mut page = String::with_capacity(8 * 1024 + 400 * document.items.len());
    let _ = write!(
        page,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>Invoice {} from {}</title>\
         <style>{STYLE}</style></head><body><main><header><h1>Invoice {}</h1><p>From {}</p>",
        escape(&number),
        escape(&seller),
        escape(&number),
        escape(&seller),
    );
    let paid = matches!(
        invoice.status,
        InvoiceStatus::Paid | InvoiceStatus::PartiallyRefunded | InvoiceStatus::Refunded
    );
    if paid {
        page.push_str("<p class=\"status\">Paid</p>");
    } else if invoice.status == InvoiceStatus::Voided {
        page.push_str("<p class=\"status\">Void</p>");
    } else {
        let _ = write!(
            page,
            "<p class=\"due\">Amount due: {} {}</p>",
            invoice.currency.code(),
            amount(invoice.totals.amount_due)
        );
    }
    let _ = write!(
        page,
        "<p><a href=\"{}\">Download the invoice as a PDF</a></p>",
        escape(downloads.pdf)
    );
    if let Some(einvoice) = downloads.einvoice {
        let _ = write!(
            page,
            "<p><a href=\"{}\">Download the e-invoice (UBL XML, EN 16931) for your accounting \
             system</a></p>",
            escape(einvoice)
        );
    }
    page.push_str("</header>");
    page.push_str("<section aria-labelledby=\"details\"><h2 id=\"details\">Details</h2><dl>");
    for (label, value) in facts(invoice, zone) {
        let _ = write!(
            page,
            "<dt>{}</dt><dd>{}</dd>",
            escape(label),
            escape(&value)
        );
    }
    page.push_str("</dl></section><section aria-labelledby=\"parties\"><h2 id=\"parties\">Parties</h2><div class=\"parties\">");
    for (label, lines) in parties(invoice, document.seller) {
        let _ = write!(page, "<div><h3>{}</h3>", escape(label));
        for line in lines {
            let _ = write!(page, "<p>{}</p>", escape(&line));
        }
        page.push_str("</div>");
    }
    page.push_str(
        "</div></section><section aria-labelledby=\"lines\"><h2 id=\"lines\">Lines</h2><table>\
         <caption>Each line of the invoice</caption><thead><tr><th scope=\"col\">Description</th>\
         <th scope=\"col\">Period</th><th scope=\"col\" class=\"number\">Quantity</th>\
         <th scope=\"col\" class=\"number\">Unit price</th><th scope=\"col\" class=\"number\">\
         Discount</th><th scope=\"col\" class=\"number\">Tax</th><th scope=\"col\" \
         class=\"number\">Amount</th></tr></thead><tbody>",
    );
    for item in document.items {
        line(&mut page, item, zone, minor_units);
    }
    page.push_str(
        "</tbody></table></section><section aria-labelledby=\"totals\"><h2 id=\"totals\">\
         Totals</h2><table class=\"totals\"><caption>What the invoice comes to</caption><tbody>",
    );
    for total in totals(document) {
        let class = if total.weight == Weight::Bold {
            " class=\"strong\""
        } else {
            ""
        };
        let _ = write!(
            page,
            "<tr{class}><th scope=\"row\">{}</th><td class=\"number\">{}</td></tr>",
            escape(&total.label),
            amount(total.amount)
        );
    }
    page.push_str("</tbody></table></section>");
    if let Some(notes) = &invoice.notes {
        let _ = write!(
            page,
            "<section aria-labelledby=\"notes\"><h2 id=\"notes\">Notes</h2><p>{}</p></section>",
            escape(notes)
        );
    }
    page.push_str("</main></body></html>");
    page
}

/// One line's row, with the PDF's text.
fn line(
    page: &mut String,
    item: &InvoiceItem,
    zone: crate::domain::organization::InvoiceTimeZone,
    minor_units: u32,
) {
    let line = LineText::of(item, zone, minor_units);
    let _ = write!(
        page,
        "<tr><td>{}</td><td>{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td>\
         <td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td></tr>",
        escape(&line.description),
        escape(&line.period),
        line.quantity,
        line.unit_price,
        line.discount,
        line.tax,
        line.amount,
    );
}

/// Text as HTML shows it, whatever it holds.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::tests::{invoice, items, organization};

    #[test]
    fn the_page_shows_the_documents_figures_and_escapes_what_it_is_given() {
        let (mut invoice, items, seller) = (invoice(), items(3), organization());
        invoice.notes = Some("<script>alert(1)</script> & more".into());
        let document = InvoiceDocument {
            invoice: &invoice,
            items: &items,
            seller: &seller,
        };
        let downloads = Downloads {
            pdf: "/hosted-invoices/x/pdf",
            einvoice: None,
        };
        let page = render(&document, downloads);
        assert!(page.starts_with("<!doctype html><html lang=\"en\">"));
        assert!(page.contains("<p class=\"status\">Paid</p>"), "{page}");
        assert!(page.contains("href=\"/hosted-invoices/x/pdf\""));
        assert!(!page.contains("e-invoice"));
        let page = render(
            &document,
            Downloads {
                einvoice: Some("/hosted-invoices/x/einvoice"),
                ..downloads
            },
        );
        assert!(page.contains("href=\"/hosted-invoices/x/einvoice\""));
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
        assert_eq!(page.matches("<tr><td>").count(), 3);
        for total in totals(&document) {
            assert!(page.contains(&escape(&total.label)), "{}", total.label);
        }
    }
}
