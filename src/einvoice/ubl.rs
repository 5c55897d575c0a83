//! The e-invoice in OASIS UBL 2.1, as EN 16931's UBL binding maps each business term: an
//! `Invoice` or a `CreditNote`, its elements in the order the UBL schemas' sequences require.
//! With both parties' electronic addresses it declares Peppol BIS Billing 3.0, whose network
//! routes on them; otherwise plain EN 16931.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::model::{
    Address, Allowance, BreakdownGroup, DocumentKind, EInvoice, Line, Party, percent,
};
use super::xml::Xml;
use crate::domain::vat::VatCategory;

const INVOICE_NAMESPACE: &str = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2";
const CREDIT_NOTE_NAMESPACE: &str = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2";
const AGGREGATES: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const BASICS: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
/// EN 16931 itself.
const EN16931: &str = "urn:cen.eu:en16931:2017";
/// Peppol BIS Billing 3.0, a compliant specialisation of it.
const PEPPOL_BIS: &str =
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0";
const PEPPOL_PROFILE: &str = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0";
/// UN/ECE Recommendation 20's "one", the unit of every line here.
const UNIT_CODE: &str = "C62";

/// The document as UBL 2.1 XML.
pub fn write(document: &EInvoice) -> String {
    let (root, namespace) = match document.kind {
        DocumentKind::Invoice => ("Invoice", INVOICE_NAMESPACE),
        DocumentKind::CreditNote => ("CreditNote", CREDIT_NOTE_NAMESPACE),
    };
    let mut xml = Xml::new(2_048 + 1_024 * document.lines.len());
    xml.open_with(
        root,
        &[
            ("xmlns", namespace),
            ("xmlns:cac", AGGREGATES),
            ("xmlns:cbc", BASICS),
        ],
    );
    // Peppol also wants a buyer or order reference (PEPPOL-EN16931-R003); without one the
    // document is plain EN 16931, which holds no such rule.
    let peppol = document.seller.endpoint.is_some()
        && document.buyer.endpoint.is_some()
        && (document.buyer_reference.is_some() || document.order_reference.is_some());
    xml.leaf(
        "cbc:CustomizationID",
        if peppol { PEPPOL_BIS } else { EN16931 },
    );
    if peppol {
        xml.leaf("cbc:ProfileID", PEPPOL_PROFILE);
    }
    xml.leaf("cbc:ID", &document.number)
        .leaf("cbc:IssueDate", &date(document.issue_date));
    match document.kind {
        DocumentKind::Invoice => {
            xml.leaf_if("cbc:DueDate", document.due_date.map(date).as_deref())
                .leaf("cbc:InvoiceTypeCode", document.kind.type_code());
        }
        DocumentKind::CreditNote => {
            xml.leaf("cbc:CreditNoteTypeCode", document.kind.type_code());
        }
    }
    xml.leaf_if("cbc:Note", document.note.as_deref())
        .leaf("cbc:DocumentCurrencyCode", document.currency.code())
        .leaf_if("cbc:BuyerReference", document.buyer_reference.as_deref());
    if let Some(period) = document.period {
        write_period(&mut xml, period);
    }
    if let Some(order) = &document.order_reference {
        xml.open("cac:OrderReference").leaf("cbc:ID", order).close();
    }
    if let Some((number, issued)) = &document.preceding_invoice {
        xml.open("cac:BillingReference")
            .open("cac:InvoiceDocumentReference")
            .leaf("cbc:ID", number)
            .leaf_if("cbc:IssueDate", issued.map(date).as_deref())
            .close()
            .close();
    }
    xml.open("cac:AccountingSupplierParty");
    write_party(&mut xml, &document.seller);
    xml.close().open("cac:AccountingCustomerParty");
    write_party(&mut xml, &document.buyer);
    xml.close();
    if let Some(delivery) = &document.delivery {
        xml.open("cac:Delivery")
            .leaf_if("cbc:ActualDeliveryDate", delivery.date.map(date).as_deref());
        if let Some(address) = &delivery.address {
            xml.open("cac:DeliveryLocation");
            write_address(&mut xml, "cac:Address", address);
            xml.close();
        }
        xml.close();
    }
    write_payment(&mut xml, document);
    let money = Money::of(document);
    for allowance in &document.allowances {
        write_allowance(&mut xml, &money, allowance);
    }
    xml.open("cac:TaxTotal").leaf_with(
        "cbc:TaxAmount",
        &money.currency(),
        &money.text(document.totals.vat),
    );
    for group in &document.breakdown {
        write_group(&mut xml, &money, group);
    }
    xml.close();
    let totals = &document.totals;
    xml.open("cac:LegalMonetaryTotal")
        .leaf_with(
            "cbc:LineExtensionAmount",
            &money.currency(),
            &money.text(totals.lines),
        )
        .leaf_with(
            "cbc:TaxExclusiveAmount",
            &money.currency(),
            &money.text(totals.without_vat),
        )
        .leaf_with(
            "cbc:TaxInclusiveAmount",
            &money.currency(),
            &money.text(totals.with_vat),
        )
        .leaf_with(
            "cbc:AllowanceTotalAmount",
            &money.currency(),
            &money.text(totals.allowances),
        )
        .leaf_with(
            "cbc:PrepaidAmount",
            &money.currency(),
            &money.text(totals.paid),
        )
        .leaf_with(
            "cbc:PayableAmount",
            &money.currency(),
            &money.text(totals.due),
        )
        .close();
    for line in &document.lines {
        write_line(&mut xml, &money, document.kind, line);
    }
    xml.close();
    xml.finish()
}

/// Amounts in the document's currency, with exactly its minor units' decimals.
struct Money {
    code: &'static str,
    places: usize,
}

impl Money {
    fn of(document: &EInvoice) -> Self {
        Self {
            code: document.currency.code(),
            places: document.currency.minor_units() as usize,
        }
    }

    fn currency(&self) -> [(&'static str, &str); 1] {
        [("currencyID", self.code)]
    }

    fn text(&self, amount: Decimal) -> String {
        format!("{:.*}", self.places, amount)
    }
}

fn date(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn write_period(xml: &mut Xml, (start, end): (NaiveDate, NaiveDate)) {
    xml.open("cac:InvoicePeriod")
        .leaf("cbc:StartDate", &date(start))
        .leaf("cbc:EndDate", &date(end))
        .close();
}

fn write_party(xml: &mut Xml, party: &Party) {
    xml.open("cac:Party");
    if let Some(endpoint) = &party.endpoint {
        xml.leaf_with(
            "cbc:EndpointID",
            &[("schemeID", &endpoint.scheme)],
            &endpoint.id,
        );
    }
    if let Some(trading_name) = &party.trading_name {
        xml.open("cac:PartyName")
            .leaf("cbc:Name", trading_name)
            .close();
    }
    write_address(xml, "cac:PostalAddress", &party.address);
    if let Some(vat_id) = &party.vat_id {
        xml.open("cac:PartyTaxScheme")
            .leaf("cbc:CompanyID", vat_id)
            .open("cac:TaxScheme")
            .leaf("cbc:ID", "VAT")
            .close()
            .close();
    }
    xml.open("cac:PartyLegalEntity")
        .leaf("cbc:RegistrationName", &party.name)
        .leaf_if("cbc:CompanyID", party.legal_id.as_deref())
        .close();
    if let Some(email) = &party.email {
        xml.open("cac:Contact")
            .leaf("cbc:ElectronicMail", email)
            .close();
    }
    xml.close();
}

fn write_address(xml: &mut Xml, element: &'static str, address: &Address) {
    xml.open(element)
        .leaf_if("cbc:StreetName", address.line.as_deref())
        .leaf_if("cbc:AdditionalStreetName", address.second_line.as_deref())
        .leaf_if("cbc:CityName", address.city.as_deref())
        .leaf_if("cbc:PostalZone", address.postal_code.as_deref())
        .leaf_if("cbc:CountrySubentity", address.region.as_deref())
        .open("cac:Country")
        .leaf("cbc:IdentificationCode", &address.country)
        .close()
        .close();
}

fn write_payment(xml: &mut Xml, document: &EInvoice) {
    if let Some(payment) = &document.payment {
        xml.open("cac:PaymentMeans")
            .leaf("cbc:PaymentMeansCode", payment.means_code);
        // UBL 2.1's credit note has no due date of its own: EN 16931 puts it here.
        if document.kind == DocumentKind::CreditNote {
            xml.leaf_if("cbc:PaymentDueDate", document.due_date.map(date).as_deref());
        }
        xml.leaf_if("cbc:PaymentID", payment.remittance.as_deref());
        if let Some(iban) = &payment.iban {
            xml.open("cac:PayeeFinancialAccount")
                .leaf("cbc:ID", iban)
                .leaf_if("cbc:Name", payment.account_name.as_deref());
            if let Some(bic) = &payment.bic {
                xml.open("cac:FinancialInstitutionBranch")
                    .leaf("cbc:ID", bic)
                    .close();
            }
            xml.close();
        }
        xml.close();
    }
    if let Some(terms) = &document.payment_terms {
        xml.open("cac:PaymentTerms").leaf("cbc:Note", terms).close();
    }
}

fn write_allowance(xml: &mut Xml, money: &Money, allowance: &Allowance) {
    xml.open("cac:AllowanceCharge")
        .leaf("cbc:ChargeIndicator", "false")
        .leaf("cbc:AllowanceChargeReason", &allowance.reason)
        .leaf_with(
            "cbc:Amount",
            &money.currency(),
            &money.text(allowance.amount),
        );
    write_category(
        xml,
        "cac:TaxCategory",
        allowance.category,
        allowance.rate,
        None,
    );
    xml.close();
}

fn write_group(xml: &mut Xml, money: &Money, group: &BreakdownGroup) {
    xml.open("cac:TaxSubtotal")
        .leaf_with(
            "cbc:TaxableAmount",
            &money.currency(),
            &money.text(group.taxable),
        )
        .leaf_with("cbc:TaxAmount", &money.currency(), &money.text(group.tax));
    write_category(
        xml,
        "cac:TaxCategory",
        group.category,
        group.rate,
        Some(group),
    );
    xml.close();
}

/// A category with its rate (none for `O`, which has no rate) and, in the breakdown, the
/// exemption.
fn write_category(
    xml: &mut Xml,
    element: &'static str,
    category: VatCategory,
    rate: Decimal,
    group: Option<&BreakdownGroup>,
) {
    xml.open(element).leaf("cbc:ID", category.code());
    if category != VatCategory::OutsideScope {
        xml.leaf("cbc:Percent", &percent(rate).to_string());
    }
    if let Some(group) = group {
        xml.leaf_if(
            "cbc:TaxExemptionReasonCode",
            group.exemption_code.map(|code| code.as_str()),
        )
        .leaf_if("cbc:TaxExemptionReason", group.exemption_reason.as_deref());
    }
    xml.open("cac:TaxScheme")
        .leaf("cbc:ID", "VAT")
        .close()
        .close();
}

fn write_line(xml: &mut Xml, money: &Money, kind: DocumentKind, line: &Line) {
    let (element, quantity) = match kind {
        DocumentKind::Invoice => ("cac:InvoiceLine", "cbc:InvoicedQuantity"),
        DocumentKind::CreditNote => ("cac:CreditNoteLine", "cbc:CreditedQuantity"),
    };
    xml.open(element)
        .leaf("cbc:ID", &line.id)
        .leaf_with(
            quantity,
            &[("unitCode", UNIT_CODE)],
            &line.quantity.normalize().to_string(),
        )
        .leaf_with(
            "cbc:LineExtensionAmount",
            &money.currency(),
            &money.text(line.net),
        );
    if let Some(period) = line.period {
        write_period(xml, period);
    }
    xml.open("cac:Item")
        .leaf_if("cbc:Description", line.description.as_deref())
        .leaf("cbc:Name", &line.name);
    write_category(
        xml,
        "cac:ClassifiedTaxCategory",
        line.category,
        line.rate,
        None,
    );
    xml.close()
        .open("cac:Price")
        .leaf_with(
            "cbc:PriceAmount",
            &money.currency(),
            &line.unit_price.normalize().to_string(),
        )
        .close()
        .close();
}
