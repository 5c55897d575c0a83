//! What the document tests render: an organization, an invoice with every part the document
//! draws (parties, a discount, computed and manual taxes, payments, notes), its items and a
//! credit memo of it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::domain::contact::{ContactAddress, InvoiceParties, TaxIdKind, TaxIdNumber};
use crate::domain::credit_memo::{
    CreditAllocation, CreditLine, CreditMemo, CreditMemoStatus, CreditReason, CreditTotals,
};
use crate::domain::currency::Currency;
use crate::domain::discount::{AppliedDiscount, Discount, DiscountDescription, DiscountKind};
use crate::domain::ids::{
    CreditMemoId, CreditMemoLineId, CustomerId, InvoiceId, InvoiceItemId, OrganizationId, WebsiteId,
};
use crate::domain::invoice::{Invoice, InvoicePayments, InvoiceStatus, InvoiceTotals};
use crate::domain::invoice_item::{
    Description, InvoiceItem, ItemExtras, ItemType, Quantity, UnitPrice,
};
use crate::domain::metadata::Metadata;
use crate::domain::organization::{Organization, OrganizationDetails};
use crate::domain::tax::{
    ComputedTax, ItemTax, ManualTax, TaxAmount, TaxComponent, TaxDescription, TaxSettings,
};
use crate::domain::text::BoundedText;

/// The number of pages of a PDF, by its page objects: krilla writes one `/Type/Page` each
/// (and one `/Type/Pages`, the tree).
pub(super) fn page_count(pdf: &[u8]) -> usize {
    let needle = b"/Type/Page";
    pdf.windows(needle.len() + 1)
        .filter(|window| window.starts_with(needle) && window[needle.len()] != b's')
        .count()
}

fn time(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn text<const MAX: usize>(value: &str) -> BoundedText<MAX> {
    BoundedText::parse(value.to_owned()).unwrap()
}

/// The seller: named, with an address.
pub(super) fn organization() -> Organization {
    Organization {
        id: OrganizationId::parse("org_doc").unwrap(),
        details: OrganizationDetails {
            name: Some(text("Acme Ltd")),
            address: Some(text("36 Craven St")),
            city: Some(text("London")),
            ..OrganizationDetails::default()
        },
        updated_time: None,
    }
}

/// An issued, paid invoice in USD with a discount, both kinds of tax, the three parties'
/// blocks and notes.
pub(crate) fn invoice() -> Invoice {
    let discount = Discount::new(
        Some(DiscountDescription::parse("Loyalty".to_owned()).unwrap()),
        DiscountKind::Percent,
        dec!(10),
        2,
    )
    .unwrap();
    let address = ContactAddress {
        first_name: Some(text("Ada")),
        last_name: Some(text("Lovelace")),
        city: Some(text("Paris")),
        ..ContactAddress::default()
    };
    Invoice {
        id: InvoiceId::parse("in_doc").unwrap(),
        customer_id: CustomerId::parse("cus_doc").unwrap(),
        website_id: WebsiteId::parse("web_doc").unwrap(),
        currency: Currency::parse("USD").unwrap(),
        status: InvoiceStatus::Paid,
        invoice_number: Some(42),
        totals: InvoiceTotals {
            subtotal_amount: dec!(1234.50),
            discount_amount: dec!(123.45),
            tax_amount: dec!(80.00),
            amount: dec!(1191.05),
            amount_due: dec!(0),
        },
        payments: InvoicePayments {
            paid_amount: dec!(1191.05),
            refunded_amount: dec!(10),
            paid_time: Some(time("2026-02-01T10:00:00Z")),
            ..InvoicePayments::default()
        },
        due_time: Some(time("2026-02-15T00:00:00Z")),
        issued_time: Some(time("2026-01-15T00:00:00Z")),
        abandoned_time: None,
        voided_time: None,
        discounts: vec![AppliedDiscount {
            discount,
            amount: dec!(123.45),
        }],
        tax: TaxSettings::default(),
        notes: Some("Payable within 30 days.\nThank you.".to_owned()),
        po_number: Some("PO-4471".to_owned()),
        parties: InvoiceParties {
            billing_address: Some(address.clone()),
            delivery_address: Some(address),
            organization_tax_id: Some(TaxIdNumber {
                kind: TaxIdKind::EuVat,
                value: text("GB980780684"),
            }),
            customer_tax_id: None,
            customer_electronic_address: None,
            buyer_reference: None,
        },
        metadata: Metadata::default(),
        collection: Default::default(),
        hosted_token: None,
        revision: 3,
        created_time: time("2026-01-10T00:00:00Z"),
        updated_time: time("2026-02-01T10:00:00Z"),
    }
}

/// `count` items of the invoice, alternating computed and manual taxes, with a credit among
/// them and one long description.
pub(crate) fn items(count: usize) -> Vec<InvoiceItem> {
    let now = time("2026-01-10T00:00:00Z");
    (0..count)
        .map(|index| {
            let description = if index == 1 {
                "A description long enough to wrap over several lines of the table: ".repeat(4)
            } else {
                format!("Seat {index} — 座席")
            };
            let tax = if index % 2 == 0 {
                ItemTax::Computed(ComputedTax {
                    amount: dec!(7.25),
                    rate: dec!(0.0725),
                    state: TaxComponent {
                        rate: dec!(0.0625),
                        amount: dec!(6.25),
                    },
                    county: TaxComponent::default(),
                    city: TaxComponent {
                        rate: dec!(0.01),
                        amount: dec!(1),
                    },
                    special_district: TaxComponent::default(),
                    jurisdictions: None,
                })
            } else {
                ItemTax::Manual(ManualTax::new(
                    TaxAmount::parse(dec!(2.40)).unwrap(),
                    TaxDescription::parse("VAT".to_owned()).unwrap(),
                ))
            };
            InvoiceItem {
                id: InvoiceItemId::parse(&format!("ii_{index}")).unwrap(),
                invoice_id: InvoiceId::parse("in_doc").unwrap(),
                item_type: if index == 2 {
                    ItemType::Credit
                } else {
                    ItemType::Debit
                },
                description: Some(Description::parse(description.trim().to_owned()).unwrap()),
                unit_price: UnitPrice::parse(dec!(100.125)).unwrap(),
                quantity: Quantity::parse(3).unwrap(),
                price: dec!(300.38),
                product_id: None,
                discount_amount: dec!(30.04),
                period_start_time: Some(time("2026-01-01T00:00:00Z")),
                period_end_time: (index % 3 != 0).then(|| time("2026-12-31T00:00:00Z")),
                period_number: None,
                tax: Some(tax),
                vat: None,
                extras: ItemExtras::default(),
                revision: 0,
                created_time: now,
                updated_time: now,
            }
        })
        .collect()
}

/// A memo of `lines` lines crediting [`invoice`], allocated to it and to another invoice;
/// voided (with nothing left allocated) when `voided`.
pub(super) fn credit_memo(lines: usize, voided: bool) -> CreditMemo {
    let lines: Vec<CreditLine> = (0..lines)
        .map(|index| CreditLine {
            id: CreditMemoLineId::generate(),
            invoice_item_id: (index % 2 == 0)
                .then(|| InvoiceItemId::parse(&format!("ii_{index}")).unwrap()),
            description: match index {
                1 => Some("Returned goods, described at length: ".repeat(6)),
                3 => None,
                _ => Some(format!("Seat {index} — 座席")),
            },
            unit_price: dec!(100.125),
            quantity: 2,
            price: dec!(200.25),
            discount_amount: dec!(20.03),
            tax_amount: if index % 2 == 0 { dec!(14.52) } else { dec!(0) },
            tax_description: (index % 2 == 0).then(|| "Sales tax".to_owned()),
        })
        .collect();
    let totals = CreditTotals::of(&lines, dec!(5));
    let currency = Currency::parse("USD").unwrap();
    let id = CreditMemoId::generate();
    let allocation = |invoice: &str, amount: Decimal| CreditAllocation {
        credit_memo_id: id.clone(),
        invoice_id: InvoiceId::parse(invoice).unwrap(),
        amount,
        given_back: Decimal::ZERO,
        currency,
        created_time: time("2026-03-01T00:00:00Z"),
        updated_time: time("2026-03-01T00:00:00Z"),
    };
    let allocations = if voided {
        Vec::new()
    } else {
        vec![
            allocation("in_doc", dec!(100)),
            allocation("in_other", dec!(50)),
        ]
    };
    let allocated_amount = allocations.iter().map(|allocation| allocation.amount).sum();
    CreditMemo {
        id: id.clone(),
        number: 7,
        customer_id: CustomerId::parse("cus_doc").unwrap(),
        currency,
        invoice_id: InvoiceId::parse("in_doc").unwrap(),
        status: if voided {
            CreditMemoStatus::Voided
        } else {
            CreditMemoStatus::of_allocated(allocated_amount, totals.total_amount)
        },
        reason: Some(CreditReason::Return),
        description: Some("Goods returned in March.".to_owned()),
        lines,
        totals,
        allocated_amount,
        out_of_band_amount: if voided { dec!(0) } else { dec!(40) },
        allocations,
        metadata: Metadata::default(),
        revision: 1,
        created_time: time("2026-03-01T00:00:00Z"),
        updated_time: time("2026-03-01T00:00:00Z"),
        voided_time: voided.then(|| time("2026-03-05T00:00:00Z")),
    }
}

/// The text of a PDF as poppler's `pdftotext -layout` reads it (Debian's poppler-utils, which
/// the API tests need too).
pub(super) fn text_of(pdf: &[u8]) -> String {
    let file = std::env::temp_dir().join(format!(
        "invoice-api-document-{}.pdf",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&file, pdf).unwrap();
    let output = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&file)
        .arg("-")
        .output();
    let _ = std::fs::remove_file(&file);
    let output = output.expect("pdftotext runs: apt-get install poppler-utils");
    assert!(output.status.success(), "pdftotext failed: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The line of `text` that starts with `label`, its spaces trimmed.
pub(super) fn line_of<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .map(str::trim)
        .find(|line| line.starts_with(label))
        .unwrap_or_else(|| panic!("no line {label:?} in\n{text}"))
}
