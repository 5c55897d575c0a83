use chrono::NaiveDate;
use rust_decimal_macros::dec;

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::model::*;
use crate::domain::currency::Currency;
use crate::domain::money::round_half_away_from_zero;
use crate::domain::vat::{ExemptionCode, VatCategory};

pub(crate) fn sample() -> EInvoice {
    let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    let seller = Party {
        name: "Muster GmbH".to_owned(),
        vat_id: Some("DE123456789".to_owned()),
        endpoint: Some(Endpoint {
            scheme: "9930".to_owned(),
            id: "DE123456789".to_owned(),
        }),
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
        endpoint: Some(Endpoint {
            scheme: "0088".to_owned(),
            id: "4000001123452".to_owned(),
        }),
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
        delivery: None,
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
    assert!(
        xml.contains("<cbc:RegistrationName>Acme &amp; Söhne &lt;KG&gt;</cbc:RegistrationName>")
    );
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

/// The breakdown and the totals of `document` from its lines and allowances, as EN 16931 sums
/// them; `exemptions` gives each category without VAT its reason and code.
fn settle(mut document: EInvoice, exemptions: &[(VatCategory, &str, &str)]) -> EInvoice {
    let places = document.currency.minor_units();
    let mut groups: BTreeMap<(VatCategory, Decimal), Decimal> = BTreeMap::new();
    for line in &document.lines {
        *groups.entry((line.category, line.rate)).or_default() += line.net;
    }
    for allowance in &document.allowances {
        *groups
            .entry((allowance.category, allowance.rate))
            .or_default() -= allowance.amount;
    }
    document.breakdown = groups
        .into_iter()
        .map(|((category, rate), taxable)| {
            let exemption = exemptions.iter().find(|(of, _, _)| *of == category);
            BreakdownGroup {
                category,
                rate,
                taxable,
                tax: round_half_away_from_zero(taxable * rate, places),
                exemption_reason: exemption.map(|(_, reason, _)| (*reason).to_owned()),
                exemption_code: exemption.map(|(_, _, code)| ExemptionCode::parse(code).unwrap()),
            }
        })
        .collect();
    let lines: Decimal = document.lines.iter().map(|line| line.net).sum();
    let allowances: Decimal = document.allowances.iter().map(|a| a.amount).sum();
    let vat: Decimal = document.breakdown.iter().map(|group| group.tax).sum();
    let without_vat = lines - allowances;
    document.totals = Totals {
        lines,
        allowances,
        without_vat,
        vat,
        with_vat: without_vat + vat,
        paid: Decimal::ZERO,
        due: without_vat + vat,
    };
    document
}

fn line(
    id: usize,
    name: &str,
    quantity: i64,
    price: Decimal,
    category: VatCategory,
    rate: Decimal,
) -> Line {
    Line {
        id: id.to_string(),
        name: name.to_owned(),
        description: None,
        quantity: Decimal::from(quantity),
        unit_price: price,
        net: Decimal::from(quantity) * price,
        period: None,
        category,
        rate,
    }
}

/// Documents that exercise every category and shape the writers must get right.
pub(crate) fn corpus() -> Vec<(&'static str, EInvoice)> {
    let base = sample();
    let zero = Decimal::ZERO;
    let mut documents = vec![("standard-and-credit", base.clone())];

    let mut multi = base.clone();
    multi.lines.push(line(
        3,
        "Book",
        3,
        dec!(12.99),
        VatCategory::Standard,
        dec!(0.07),
    ));
    multi.allowances.push(Allowance {
        amount: dec!(1.50),
        reason: "Loyalty".to_owned(),
        category: VatCategory::Standard,
        rate: dec!(0.07),
    });
    documents.push(("two-rates", settle(multi, &[])));

    let mut zero_rated = base.clone();
    zero_rated.allowances.clear();
    zero_rated.lines = vec![line(
        1,
        "Export book",
        2,
        dec!(10),
        VatCategory::ZeroRated,
        zero,
    )];
    documents.push(("zero-rated", settle(zero_rated, &[])));

    let mut exempt = base.clone();
    exempt.allowances.clear();
    exempt.lines.push(line(
        3,
        "Medical care",
        1,
        dec!(80),
        VatCategory::Exempt,
        zero,
    ));
    documents.push((
        "exempt",
        settle(
            exempt,
            &[(
                VatCategory::Exempt,
                "Exempt under Article 132",
                "VATEX-EU-132",
            )],
        ),
    ));

    let mut reverse = base.clone();
    reverse.allowances.clear();
    reverse.buyer.address.country = "FR".to_owned();
    reverse.buyer.vat_id = Some("FR12345678901".to_owned());
    reverse.lines = vec![line(
        1,
        "Consulting",
        4,
        dec!(150),
        VatCategory::ReverseCharge,
        zero,
    )];
    documents.push((
        "reverse-charge",
        settle(
            reverse,
            &[(VatCategory::ReverseCharge, "Reverse charge", "VATEX-EU-AE")],
        ),
    ));

    let mut intra = base.clone();
    intra.allowances.clear();
    intra.buyer.address.country = "AT".to_owned();
    intra.buyer.vat_id = Some("ATU12345678".to_owned());
    intra.delivery = Some(Delivery {
        date: Some(intra.issue_date),
        address: Some(Address {
            city: Some("Wien".to_owned()),
            country: "AT".to_owned(),
            ..Address::default()
        }),
    });
    intra.lines = vec![line(
        1,
        "Machine part",
        10,
        dec!(25.5),
        VatCategory::IntraCommunity,
        zero,
    )];
    documents.push((
        "intra-community",
        settle(
            intra,
            &[(
                VatCategory::IntraCommunity,
                "Intra-community supply",
                "VATEX-EU-IC",
            )],
        ),
    ));

    let mut export = base.clone();
    export.allowances.clear();
    export.buyer.address.country = "US".to_owned();
    export.buyer.vat_id = None;
    export.buyer.endpoint = None;
    export.lines = vec![line(1, "Machine", 1, dec!(9000), VatCategory::Export, zero)];
    documents.push((
        "export",
        settle(
            export,
            &[(VatCategory::Export, "Export outside the EU", "VATEX-EU-G")],
        ),
    ));

    let mut outside = base.clone();
    outside.allowances.clear();
    outside.seller.vat_id = None;
    outside.seller.legal_id = Some("HRB 12345".to_owned());
    outside.seller.endpoint = None;
    outside.buyer.vat_id = None;
    outside.lines = vec![line(
        1,
        "Donation receipt",
        1,
        dec!(50),
        VatCategory::OutsideScope,
        zero,
    )];
    documents.push((
        "outside-scope",
        settle(
            outside,
            &[(
                VatCategory::OutsideScope,
                "Not subject to VAT",
                "VATEX-EU-O",
            )],
        ),
    ));

    let mut credit = base.clone();
    credit.kind = DocumentKind::CreditNote;
    credit.number = "CM-1".to_owned();
    credit.preceding_invoice = Some(("1001".to_owned(), Some(base.issue_date)));
    credit.allowances.clear();
    credit.lines = vec![line(
        1,
        "Consulting, returned",
        1,
        dec!(50),
        VatCategory::Standard,
        dec!(0.19),
    )];
    documents.push(("credit-note", settle(credit, &[])));

    let mut krona = base.clone();
    krona.currency = Currency::parse("SEK").unwrap();
    krona.seller.address.country = "SE".to_owned();
    krona.seller.vat_id = Some("SE556677889901".to_owned());
    krona.lines = vec![line(
        1,
        "Licens",
        3,
        dec!(1249.50),
        VatCategory::Standard,
        dec!(0.25),
    )];
    krona.allowances = vec![];
    documents.push(("sek", settle(krona, &[])));

    let mut yen = base.clone();
    yen.currency = Currency::parse("JPY").unwrap();
    yen.lines = vec![line(
        1,
        "Service",
        3,
        dec!(1333),
        VatCategory::Standard,
        dec!(0.19),
    )];
    yen.allowances = vec![Allowance {
        amount: dec!(100),
        reason: "Discount".to_owned(),
        category: VatCategory::Standard,
        rate: dec!(0.19),
    }];
    documents.push(("jpy", settle(yen, &[])));

    let mut many = base.clone();
    many.allowances.clear();
    many.lines = (1..=500)
        .map(|n| {
            line(
                n,
                &format!("Item {n}"),
                (n % 7 + 1) as i64,
                Decimal::new(n as i64 * 37 % 10_000 + 1, 2),
                VatCategory::Standard,
                if n % 3 == 0 { dec!(0.07) } else { dec!(0.19) },
            )
        })
        .collect();
    documents.push(("500-lines", settle(many, &[])));

    let mut script = base;
    script.allowances.clear();
    script.buyer.name = "Ελληνική Εταιρεία Α.Ε. · 株式会社テスト".to_owned();
    script.lines = vec![line(
        1,
        "Συμβουλευτικές υπηρεσίες · コンサルティング",
        1,
        dec!(100),
        VatCategory::Standard,
        dec!(0.19),
    )];
    documents.push(("non-latin", settle(script, &[])));
    documents
}

#[test]
fn every_document_of_the_corpus_is_written_in_both_syntaxes() {
    let out = std::env::var("EINVOICE_CORPUS_OUT").ok();
    for (name, document) in corpus() {
        let ubl = super::ubl::write(&document);
        let cii = super::cii::write(&document);
        assert!(
            ubl.contains(&document.number) && cii.contains(&document.number),
            "{name}"
        );
        if let Some(dir) = &out {
            std::fs::write(format!("{dir}/{name}.ubl.xml"), ubl).unwrap();
            std::fs::write(format!("{dir}/{name}.cii.xml"), cii).unwrap();
        }
    }
}
