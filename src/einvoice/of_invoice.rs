//! An issued invoice as an EN 16931 e-invoice, from the same stored figures its JSON and its PDF
//! show: each item is a line, each category and rate of its VAT a breakdown group whose
//! discounts are a document-level allowance, and the totals are the invoice's own.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::model::{
    Address, Allowance, BreakdownGroup, Delivery, DocumentKind, EInvoice, Endpoint, Line, Party,
    PaymentInstructions, Totals,
};
use super::refusal::{Inexpressible, LegalTerm, Reason, Refusal};
use crate::domain::contact::{ContactAddress, TaxIdKind, TaxIdNumber};
use crate::domain::currency::Currency;
use crate::domain::invoice::{Invoice, InvoiceStatus};
use crate::domain::invoice_item::{InvoiceItem, ItemType};
use crate::domain::legal::ElectronicAddress;
use crate::domain::organization::{InvoiceTimeZone, Organization};
use crate::domain::tax::{ItemTax, TaxSettings};
use crate::domain::text::BoundedText;
use crate::domain::vat::{Exemption, LineVat, VatCategory};

/// What names a line that has no description.
const UNNAMED_LINE: &str = "Item";

/// What a document-level allowance is for: the invoice's discounts.
const DISCOUNT: &str = "Discount";

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
    if invoice.status == InvoiceStatus::Draft {
        return Err(refuse(Reason::Draft));
    }
    let inexpressible = |why| refuse(Reason::Inexpressible(why));
    let TaxSettings::Vat(rate) = &invoice.tax else {
        return Err(inexpressible(Inexpressible::NotVat {
            calculator: invoice.tax.calculator(),
        }));
    };
    if invoice.currency.minor_units() > 2 {
        return Err(inexpressible(Inexpressible::CurrencyTooPrecise {
            currency: invoice.currency.code(),
        }));
    }
    if items.is_empty() {
        return Err(inexpressible(Inexpressible::NoLines));
    }
    let zone = seller.details.invoice_time_zone;
    let default = LineVat::standard(*rate);
    let lines = lines(items, &default, zone).map_err(inexpressible)?;
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
    } else if seller_party.vat_id.is_none() && !categories.is_empty() {
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
    let period = invoice_period(&lines);
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
        return Err(refuse(Reason::Incomplete(missing)));
    }

    let totals = totals(&lines, &groups, invoice);
    let number = invoice
        .invoice_number
        .map_or_else(|| invoice.id.to_string(), |number| number.to_string());
    let due_date = invoice.due_time.map(|time| zone.date(time));
    Ok(EInvoice {
        kind: DocumentKind::Invoice,
        issue_date: zone.date(invoice.issued_time.unwrap_or(invoice.created_time)),
        due_date,
        currency: invoice.currency,
        buyer_reference: None,
        order_reference: invoice.po_number.clone(),
        preceding_invoice: None,
        note: invoice.notes.clone(),
        period,
        delivery,
        payment: payment(seller, invoice.currency, &number),
        // BR-CO-25: with an amount due, a due date or terms.
        payment_terms: due_date.is_none().then(|| "Due on receipt".to_owned()),
        number,
        seller: seller_party,
        buyer,
        allowances: groups
            .iter()
            .filter(|group| !group.allowance.is_zero())
            .map(|group| Allowance {
                amount: group.allowance,
                reason: DISCOUNT.to_owned(),
                category: group.category,
                rate: group.rate,
            })
            .collect(),
        breakdown: groups.iter().map(VatGroup::breakdown).collect(),
        lines: lines.into_iter().map(|line| line.line).collect(),
        totals,
    })
}

/// A line with what its group needs of the item.
struct ItemLine<'a> {
    line: Line,
    /// Its share of the invoice's discounts.
    allowance: Decimal,
    /// Its share of its group's VAT.
    tax: Decimal,
    exemption: Option<&'a Exemption>,
}

fn lines<'a>(
    items: &'a [InvoiceItem],
    default: &'a LineVat,
    zone: InvoiceTimeZone,
) -> Result<Vec<ItemLine<'a>>, Inexpressible> {
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let own = item.vat.as_ref().unwrap_or(default);
            let (category, rate, tax) = match (&item.tax, item.item_type) {
                (Some(ItemTax::Vat(share)), ItemType::Debit) => {
                    (share.category, share.rate, share.amount)
                }
                // A credit is never taxed: it lowers its category's VAT.
                (_, ItemType::Credit) => (own.category(), own.rate(), Decimal::ZERO),
                (_, ItemType::Debit) => {
                    return Err(Inexpressible::ManualTax {
                        item: item.id.to_string(),
                    });
                }
            };
            let sign = match item.item_type {
                ItemType::Debit => Decimal::ONE,
                ItemType::Credit => Decimal::NEGATIVE_ONE,
            };
            let period = match (item.period_start_time, item.period_end_time) {
                (Some(start), Some(end)) => Some((zone.date(start), zone.date(end))),
                _ => None,
            };
            Ok(ItemLine {
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
                    period,
                    category,
                    rate,
                },
                allowance: match item.item_type {
                    ItemType::Debit => item.discount_amount,
                    ItemType::Credit => Decimal::ZERO,
                },
                tax,
                exemption: own.exemption().filter(|_| own.category() == category),
            })
        })
        .collect()
}

/// One category and rate, summed from its lines.
struct VatGroup<'a> {
    category: VatCategory,
    rate: Decimal,
    net: Decimal,
    allowance: Decimal,
    tax: Decimal,
    exemption: Option<&'a Exemption>,
}

impl VatGroup<'_> {
    fn breakdown(&self) -> BreakdownGroup {
        BreakdownGroup {
            category: self.category,
            rate: self.rate,
            taxable: self.net - self.allowance,
            tax: self.tax,
            exemption_reason: self
                .exemption
                .and_then(|exemption| exemption.reason.as_ref())
                .map(|reason| reason.as_str().to_owned()),
            exemption_code: self.exemption.and_then(|exemption| exemption.code),
        }
    }
}

/// The breakdown groups, by category then rate.
fn groups<'a>(lines: &[ItemLine<'a>]) -> Result<Vec<VatGroup<'a>>, Inexpressible> {
    let mut groups: BTreeMap<(VatCategory, Decimal), VatGroup<'a>> = BTreeMap::new();
    for item in lines {
        let key = (item.line.category, item.line.rate);
        let group = groups.entry(key).or_insert(VatGroup {
            category: key.0,
            rate: key.1,
            net: Decimal::ZERO,
            allowance: Decimal::ZERO,
            tax: Decimal::ZERO,
            exemption: None,
        });
        group.net += item.line.net;
        group.allowance += item.allowance;
        group.tax += item.tax;
        match (group.exemption, item.exemption) {
            (Some(kept), Some(given)) if kept != given => {
                return Err(Inexpressible::ExemptionsDiffer { category: key.0 });
            }
            (None, given) => group.exemption = given,
            _ => {}
        }
    }
    let groups: Vec<VatGroup<'a>> = groups.into_values().collect();
    if let Some(group) = groups.iter().find(|group| group.net < group.allowance) {
        return Err(Inexpressible::CreditOutweighs {
            category: group.category,
            rate: group.rate,
        });
    }
    Ok(groups)
}

/// BG-22, from the lines; the total with VAT is the invoice's amount, since pricing summed the
/// same parts, and what is due is its amount due.
fn totals(lines: &[ItemLine<'_>], groups: &[VatGroup<'_>], invoice: &Invoice) -> Totals {
    let line_total: Decimal = lines.iter().map(|item| item.line.net).sum();
    let allowances: Decimal = groups.iter().map(|group| group.allowance).sum();
    let vat: Decimal = groups.iter().map(|group| group.tax).sum();
    let without_vat = line_total - allowances;
    let with_vat = without_vat + vat;
    let due = invoice.totals.amount_due;
    Totals {
        lines: line_total,
        allowances,
        without_vat,
        vat,
        with_vat,
        paid: with_vat - due,
        due,
    }
}

/// BG-14: from the first item's start to the last one's end, when every item gives its period.
fn invoice_period(lines: &[ItemLine<'_>]) -> Option<(NaiveDate, NaiveDate)> {
    let periods: Option<Vec<(NaiveDate, NaiveDate)>> =
        lines.iter().map(|item| item.line.period).collect();
    let periods = periods?;
    let start = periods.iter().map(|(start, _)| *start).min()?;
    let end = periods.iter().map(|(_, end)| *end).max()?;
    Some((start, end))
}

fn seller_party(invoice: &Invoice, seller: &Organization, missing: &mut Vec<LegalTerm>) -> Party {
    let details = &seller.details;
    let legal = &details.legal;
    let trading = details.name.as_ref().map(|name| name.as_str().to_owned());
    let name = legal
        .legal_name
        .as_ref()
        .map(|name| name.as_str().to_owned())
        .or_else(|| trading.clone());
    if name.is_none() {
        missing.push(LegalTerm::SellerName);
    }
    if details.country.is_none() {
        missing.push(LegalTerm::SellerCountry);
    }
    let vat_id = eu_vat(invoice.parties.organization_tax_id.as_ref())
        .or_else(|| legal.vat_id.as_ref().map(|id| id.as_str().to_owned()));
    Party {
        trading_name: trading.filter(|trading| Some(trading) != name.as_ref()),
        name: name.unwrap_or_default(),
        vat_id,
        legal_id: legal
            .registration_number
            .as_ref()
            .map(|number| number.as_str().to_owned()),
        endpoint: legal.electronic_address.as_ref().map(endpoint),
        address: Address {
            line: text(details.address.as_ref()),
            second_line: None,
            city: text(details.city.as_ref()),
            postal_code: text(details.postal_code.as_ref()),
            region: text(details.region.as_ref()),
            country: details
                .country
                .as_ref()
                .map(|country| country.as_str().to_owned())
                .unwrap_or_default(),
        },
        email: details
            .emails
            .iter()
            .find(|email| email.primary)
            .or(details.emails.first())
            .map(|email| email.value.as_str().to_owned()),
    }
}

fn buyer_party(invoice: &Invoice, missing: &mut Vec<LegalTerm>) -> Party {
    let billing = invoice.parties.billing_address.as_ref();
    let name = billing.and_then(buyer_name);
    if name.is_none() {
        missing.push(LegalTerm::BuyerName);
    }
    let address = billing.and_then(address_of);
    if address.is_none() {
        missing.push(LegalTerm::BuyerCountry);
    }
    Party {
        name: name.unwrap_or_default(),
        vat_id: eu_vat(invoice.parties.customer_tax_id.as_ref()),
        endpoint: invoice
            .parties
            .customer_electronic_address
            .as_ref()
            .map(endpoint),
        address: address.unwrap_or_default(),
        email: billing.and_then(|billing| {
            billing
                .emails
                .iter()
                .find(|email| email.primary)
                .or(billing.emails.first())
                .map(|email| email.value.as_str().to_owned())
        }),
        ..Party::default()
    }
}

/// The buyer's name: the organization billed, else the person.
fn buyer_name(billing: &ContactAddress) -> Option<String> {
    if let Some(organization) = &billing.organization {
        return Some(organization.as_str().to_owned());
    }
    let person: Vec<&str> = [&billing.first_name, &billing.last_name]
        .into_iter()
        .flatten()
        .map(BoundedText::as_str)
        .collect();
    (!person.is_empty()).then(|| person.join(" "))
}

/// A postal address, if it has the country EN 16931 requires of every one.
fn address_of(contact: &ContactAddress) -> Option<Address> {
    Some(Address {
        country: contact.country.as_ref()?.as_str().to_owned(),
        line: text(contact.address.as_ref()),
        second_line: text(contact.address2.as_ref()),
        city: text(contact.city.as_ref()),
        postal_code: text(contact.postal_code.as_ref()),
        region: text(contact.region.as_ref()),
    })
}

fn endpoint(address: &ElectronicAddress) -> Endpoint {
    Endpoint {
        scheme: address.scheme().to_owned(),
        id: address.id().to_owned(),
    }
}

fn eu_vat(number: Option<&TaxIdNumber>) -> Option<String> {
    number
        .filter(|number| number.kind == TaxIdKind::EuVat)
        .map(|number| number.value.as_str().to_owned())
}

fn text<const N: usize>(value: Option<&BoundedText<N>>) -> Option<String> {
    value.map(|value| value.as_str().to_owned())
}

/// BG-16 from the seller's bank account: a SEPA credit transfer (`58`) in euros into a SEPA
/// account, another credit transfer (`30`) otherwise; the invoice's number is what to quote.
fn payment(seller: &Organization, currency: Currency, number: &str) -> Option<PaymentInstructions> {
    let account = seller.details.legal.bank_account.as_ref()?;
    let sepa =
        currency.code() == "EUR" && account.iban.as_str().get(..2).is_some_and(is_sepa_country);
    Some(PaymentInstructions {
        means_code: if sepa { "58" } else { "30" },
        remittance: Some(number.to_owned()),
        iban: Some(account.iban.as_str().to_owned()),
        account_name: account.name.as_ref().map(|name| name.as_str().to_owned()),
        bic: account.bic.as_ref().map(|bic| bic.as_str().to_owned()),
    })
}

/// The countries of the Single Euro Payments Area, by the prefix of their IBANs.
fn is_sepa_country(prefix: &str) -> bool {
    const SEPA: [&str; 36] = [
        "AD", "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GI",
        "GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MC", "MT", "NL", "NO", "PL",
        "PT", "RO", "SE", "SI", "SK", "SM",
    ];
    SEPA.contains(&prefix)
}
