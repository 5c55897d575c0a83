use chrono::NaiveDate;
use rust_decimal_macros::dec;

use super::model::*;
use crate::domain::currency::Currency;
use crate::domain::vat::VatCategory;

pub(crate) fn sample() -> EInvoice {
    let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    let seller = Party {
        name: "Muster GmbH".to_owned(),
        vat_id: Some("DE123456789".to_owned()),
        endpoint: Some(Endpoint { scheme: "9930".to_owned(), id: "DE123456789".to_owned() }),
        address: Address {
            line: Some("Hauptstraße 1".to_owned()),
            city: Some("Berlin".to_owned()),
            postal_code: Some("10115".to_owned()),
            country: "DE".to_owned(),
            ..Address::default()
        },
        ..Party::default()
    };
    let buyer = Party {
        name: "Acme & Söhne <KG>".to_owned(),
        vat_id: Some("DE987654321".to_owned()),
        endpoint: Some(Endpoint { scheme: "0088".to_owned(), id: "4000001123452".to_owned() }),
        address: Address {
            city: Some("München".to_owned()),
            country: "DE".to_owned(),
            ..Address::default()
        },
        ..Party::default()
    };
    EInvoice {
        kind: DocumentKind::Invoice,
        number: "1001".to_owned(),
        issue_date: day(4),
        due_date: Some(day(18)),
        currency: Currency::parse("EUR").unwrap(),
        buyer_reference: Some("PO-77".to_owned()),
        order_reference: Some("PO-77".to_owned()),
        preceding_invoice: None,
        note: None,
        period: None,
        seller,
        buyer,
        payment: Some(PaymentInstructions {
            means_code: "58",
            remittance: Some("1001".to_owned()),
            iban: Some("DE02120300000000202051".to_owned()),
            account_name: None,
            bic: Some("BYLADEM1001".to_owned()),
        }),
        payment_terms: Some("Net 14 days".to_owned()),
        allowances: vec![Allowance {
            amount: dec!(10.00),
            reason: "Loyalty".to_owned(),
            category: VatCategory::Standard,
            rate: dec!(0.19),
        }],
        lines: vec![
            Line {
                id: "1".to_owned(),
                name: "Consulting".to_owned(),
                description: None,
                quantity: dec!(2),
                unit_price: dec!(50),
                net: dec!(100.00),
                period: None,
                category: VatCategory::Standard,
                rate: dec!(0.19),
            },
            Line {
                id: "2".to_owned(),
                name: "Refund".to_owned(),
                description: None,
                quantity: dec!(-1),
                unit_price: dec!(5),
                net: dec!(-5.00),
                period: None,
                category: VatCategory::Standard,
                rate: dec!(0.19),
            },
        ],
        breakdown: vec![BreakdownGroup {
            category: VatCategory::Standard,
            rate: dec!(0.19),
            taxable: dec!(85.00),
            tax: dec!(16.15),
            exemption_reason: None,
            exemption_code: None,
        }],
        totals: Totals {
            lines: dec!(95.00),
            allowances: dec!(10.00),
            without_vat: dec!(85.00),
            vat: dec!(16.15),
            with_vat: dec!(101.15),
            paid: dec!(0),
            due: dec!(101.15),
        },
    }
}

#[test]
fn a_ubl_invoice_names_its_parties_lines_and_vat() {
    let xml = super::ubl::write(&sample());
    if let Ok(path) = std::env::var("EINVOICE_SAMPLE_OUT") {
        std::fs::write(path, &xml).unwrap();
    }
    assert!(xml.contains("<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>"));
    assert!(xml.contains("<cbc:RegistrationName>Acme &amp; Söhne &lt;KG&gt;</cbc:RegistrationName>"));
    assert!(xml.contains("<cbc:PayableAmount currencyID=\"EUR\">101.15</cbc:PayableAmount>"));
    assert!(xml.contains("<cbc:InvoicedQuantity unitCode=\"C62\">-1</cbc:InvoicedQuantity>"));
}

#[test]
fn a_cii_invoice_carries_the_same_figures() {
    let xml = super::cii::write(&sample());
    if let Ok(path) = std::env::var("EINVOICE_CII_SAMPLE_OUT") {
        std::fs::write(path, &xml).unwrap();
    }
    assert!(xml.contains("<ram:DuePayableAmount>101.15</ram:DuePayableAmount>"));
    assert!(xml.contains("<ram:TaxTotalAmount currencyID=\"EUR\">16.15</ram:TaxTotalAmount>"));
    assert!(xml.contains("<ram:Name>Acme &amp; Söhne &lt;KG&gt;</ram:Name>"));
}
