//! The e-invoice in UN/CEFACT Cross Industry Invoice (D16B), as EN 16931's CII binding maps each
//! business term: the XML a Factur-X PDF carries as `factur-x.xml`, in the EN 16931 profile.
//! Elements follow the order of the CII schemas' sequences.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::model::{Address, BreakdownGroup, EInvoice, Line, Party, percent};
use super::xml::Xml;
use crate::domain::vat::VatCategory;

const RSM: &str = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100";
const RAM: &str =
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100";
const UDT: &str = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100";
const QDT: &str = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100";
/// Factur-X's EN 16931 profile is EN 16931 itself.
const EN16931: &str = "urn:cen.eu:en16931:2017";
/// UN/ECE Recommendation 20's "one".
const UNIT_CODE: &str = "C62";

/// The document as CII XML.
pub fn write(document: &EInvoice) -> String {
    let mut xml = Xml::new(2_048 + 1_536 * document.lines.len());
    let places = document.currency.minor_units() as usize;
    let money = |amount: Decimal| format!("{amount:.places$}");
    xml.open_with(
        "rsm:CrossIndustryInvoice",
        &[
            ("xmlns:rsm", RSM),
            ("xmlns:ram", RAM),
            ("xmlns:udt", UDT),
            ("xmlns:qdt", QDT),
        ],
    )
    .open("rsm:ExchangedDocumentContext")
    .open("ram:GuidelineSpecifiedDocumentContextParameter")
    .leaf("ram:ID", EN16931)
    .close()
    .close()
    .open("rsm:ExchangedDocument")
    .leaf("ram:ID", &document.number)
    .leaf("ram:TypeCode", document.kind.type_code());
    write_date(
        &mut xml,
        "ram:IssueDateTime",
        "udt:DateTimeString",
        document.issue_date,
    );
    if let Some(note) = &document.note {
        xml.open("ram:IncludedNote")
            .leaf("ram:Content", note)
            .close();
    }
    xml.close().open("rsm:SupplyChainTradeTransaction");
    for line in &document.lines {
        write_line(&mut xml, &money, line);
    }
    xml.open("ram:ApplicableHeaderTradeAgreement")
        .leaf_if("ram:BuyerReference", document.buyer_reference.as_deref());
    write_party(&mut xml, "ram:SellerTradeParty", &document.seller);
    write_party(&mut xml, "ram:BuyerTradeParty", &document.buyer);
    if let Some(order) = &document.order_reference {
        xml.open("ram:BuyerOrderReferencedDocument")
            .leaf("ram:IssuerAssignedID", order)
            .close();
    }
    xml.close().open("ram:ApplicableHeaderTradeDelivery");
    if let Some(delivery) = &document.delivery {
        if let Some(address) = &delivery.address {
            xml.open("ram:ShipToTradeParty");
            write_address(&mut xml, address);
            xml.close();
        }
        if let Some(day) = delivery.date {
            xml.open("ram:ActualDeliverySupplyChainEvent");
            write_date(
                &mut xml,
                "ram:OccurrenceDateTime",
                "udt:DateTimeString",
                day,
            );
            xml.close();
        }
    }
    xml.close().open("ram:ApplicableHeaderTradeSettlement");
    if let Some(payment) = &document.payment {
        xml.leaf_if("ram:PaymentReference", payment.remittance.as_deref());
    }
    xml.leaf("ram:InvoiceCurrencyCode", document.currency.code());
    if let Some(payment) = &document.payment {
        xml.open("ram:SpecifiedTradeSettlementPaymentMeans")
            .leaf("ram:TypeCode", payment.means_code);
        if let Some(iban) = &payment.iban {
            xml.open("ram:PayeePartyCreditorFinancialAccount")
                .leaf("ram:IBANID", iban)
                .leaf_if("ram:AccountName", payment.account_name.as_deref())
                .close();
        }
        if let Some(bic) = &payment.bic {
            xml.open("ram:PayeeSpecifiedCreditorFinancialInstitution")
                .leaf("ram:BICID", bic)
                .close();
        }
        xml.close();
    }
    for group in &document.breakdown {
        write_group(&mut xml, &money, group);
    }
    if let Some(period) = document.period {
        write_period(&mut xml, period);
    }
    for allowance in &document.allowances {
        xml.open("ram:SpecifiedTradeAllowanceCharge")
            .open("ram:ChargeIndicator")
            .leaf("udt:Indicator", "false")
            .close()
            .leaf("ram:ActualAmount", &money(allowance.amount))
            .leaf("ram:Reason", &allowance.reason);
        write_tax(
            &mut xml,
            "ram:CategoryTradeTax",
            allowance.category,
            allowance.rate,
        );
        xml.close();
    }
    if document.payment_terms.is_some() || document.due_date.is_some() {
        xml.open("ram:SpecifiedTradePaymentTerms")
            .leaf_if("ram:Description", document.payment_terms.as_deref());
        if let Some(due) = document.due_date {
            write_date(&mut xml, "ram:DueDateDateTime", "udt:DateTimeString", due);
        }
        xml.close();
    }
    let totals = &document.totals;
    let currency = [("currencyID", document.currency.code())];
    xml.open("ram:SpecifiedTradeSettlementHeaderMonetarySummation")
        .leaf("ram:LineTotalAmount", &money(totals.lines))
        .leaf("ram:AllowanceTotalAmount", &money(totals.allowances))
        .leaf("ram:TaxBasisTotalAmount", &money(totals.without_vat))
        .leaf_with("ram:TaxTotalAmount", &currency, &money(totals.vat))
        .leaf("ram:GrandTotalAmount", &money(totals.with_vat))
        .leaf("ram:TotalPrepaidAmount", &money(totals.paid))
        .leaf("ram:DuePayableAmount", &money(totals.due))
        .close();
    if let Some((number, issued)) = &document.preceding_invoice {
        xml.open("ram:InvoiceReferencedDocument")
            .leaf("ram:IssuerAssignedID", number);
        if let Some(issued) = issued {
            write_date(
                &mut xml,
                "ram:FormattedIssueDateTime",
                "qdt:DateTimeString",
                *issued,
            );
        }
        xml.close();
    }
    xml.close().close().close();
    xml.finish()
}

/// A date in format `102` (`CCYYMMDD`).
fn write_date(xml: &mut Xml, element: &'static str, string: &str, day: NaiveDate) {
    xml.open(element)
        .leaf_with(
            string,
            &[("format", "102")],
            &day.format("%Y%m%d").to_string(),
        )
        .close();
}

fn write_period(xml: &mut Xml, (start, end): (NaiveDate, NaiveDate)) {
    xml.open("ram:BillingSpecifiedPeriod");
    write_date(xml, "ram:StartDateTime", "udt:DateTimeString", start);
    write_date(xml, "ram:EndDateTime", "udt:DateTimeString", end);
    xml.close();
}

fn write_line(xml: &mut Xml, money: &impl Fn(Decimal) -> String, line: &Line) {
    xml.open("ram:IncludedSupplyChainTradeLineItem")
        .open("ram:AssociatedDocumentLineDocument")
        .leaf("ram:LineID", &line.id)
        .close()
        .open("ram:SpecifiedTradeProduct")
        .leaf("ram:Name", &line.name)
        .leaf_if("ram:Description", line.description.as_deref())
        .close()
        .open("ram:SpecifiedLineTradeAgreement")
        .open("ram:NetPriceProductTradePrice")
        .leaf("ram:ChargeAmount", &line.unit_price.normalize().to_string())
        .close()
        .close()
        .open("ram:SpecifiedLineTradeDelivery")
        .leaf_with(
            "ram:BilledQuantity",
            &[("unitCode", UNIT_CODE)],
            &line.quantity.normalize().to_string(),
        )
        .close()
        .open("ram:SpecifiedLineTradeSettlement");
    write_tax(xml, "ram:ApplicableTradeTax", line.category, line.rate);
    if let Some(period) = line.period {
        write_period(xml, period);
    }
    xml.open("ram:SpecifiedTradeSettlementLineMonetarySummation")
        .leaf("ram:LineTotalAmount", &money(line.net))
        .close()
        .close()
        .close();
}

/// A category and its rate, where it has one (`O` has none).
fn write_tax(xml: &mut Xml, element: &'static str, category: VatCategory, rate: Decimal) {
    xml.open(element)
        .leaf("ram:TypeCode", "VAT")
        .leaf("ram:CategoryCode", category.code());
    if category != VatCategory::OutsideScope {
        xml.leaf("ram:RateApplicablePercent", &percent(rate).to_string());
    }
    xml.close();
}

fn write_group(xml: &mut Xml, money: &impl Fn(Decimal) -> String, group: &BreakdownGroup) {
    xml.open("ram:ApplicableTradeTax")
        .leaf("ram:CalculatedAmount", &money(group.tax))
        .leaf("ram:TypeCode", "VAT")
        .leaf_if("ram:ExemptionReason", group.exemption_reason.as_deref())
        .leaf("ram:BasisAmount", &money(group.taxable))
        .leaf("ram:CategoryCode", group.category.code())
        .leaf_if(
            "ram:ExemptionReasonCode",
            group.exemption_code.map(|code| code.as_str()),
        );
    if group.category != VatCategory::OutsideScope {
        xml.leaf(
            "ram:RateApplicablePercent",
            &percent(group.rate).to_string(),
        );
    }
    xml.close();
}

fn write_party(xml: &mut Xml, element: &'static str, party: &Party) {
    xml.open(element).leaf("ram:Name", &party.name);
    if party.legal_id.is_some() || party.trading_name.is_some() {
        xml.open("ram:SpecifiedLegalOrganization")
            .leaf_if("ram:ID", party.legal_id.as_deref())
            .leaf_if("ram:TradingBusinessName", party.trading_name.as_deref())
            .close();
    }
    if let Some(email) = &party.email {
        xml.open("ram:DefinedTradeContact")
            .open("ram:EmailURIUniversalCommunication")
            .leaf("ram:URIID", email)
            .close()
            .close();
    }
    write_address(xml, &party.address);
    if let Some(endpoint) = &party.endpoint {
        xml.open("ram:URIUniversalCommunication")
            .leaf_with("ram:URIID", &[("schemeID", &endpoint.scheme)], &endpoint.id)
            .close();
    }
    if let Some(vat_id) = &party.vat_id {
        xml.open("ram:SpecifiedTaxRegistration")
            .leaf_with("ram:ID", &[("schemeID", "VA")], vat_id)
            .close();
    }
    xml.close();
}

fn write_address(xml: &mut Xml, address: &Address) {
    xml.open("ram:PostalTradeAddress")
        .leaf_if("ram:PostcodeCode", address.postal_code.as_deref())
        .leaf_if("ram:LineOne", address.line.as_deref())
        .leaf_if("ram:LineTwo", address.second_line.as_deref())
        .leaf_if("ram:CityName", address.city.as_deref())
        .leaf("ram:CountryID", &address.country)
        .leaf_if("ram:CountrySubDivisionName", address.region.as_deref())
        .close();
}
