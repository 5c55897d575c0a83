//! The parties of an e-invoice, from the organization (the seller) and the invoice's
//! `billingAddress`, tax numbers and electronic address (the buyer), and how the buyer pays,
//! from the organization's bank account. What EN 16931 requires and is unset is collected as
//! the [`LegalTerm`]s it lacks.

use super::model::{Address, Endpoint, Party, PaymentInstructions};
use super::refusal::LegalTerm;
use crate::domain::contact::{ContactAddress, TaxIdKind, TaxIdNumber};
use crate::domain::currency::Currency;
use crate::domain::invoice::Invoice;
use crate::domain::legal::{ElectronicAddress, VatId};
use crate::domain::organization::Organization;
use crate::domain::text::BoundedText;

pub(super) fn seller_party(
    invoice: &Invoice,
    seller: &Organization,
    missing: &mut Vec<LegalTerm>,
) -> Party {
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
    let vat_id = match eu_vat(invoice.parties.organization_tax_id.as_ref()) {
        Some(Ok(id)) => Some(id),
        Some(Err(())) => {
            missing.push(LegalTerm::SellerVatIdMalformed);
            None
        }
        None => legal.vat_id.as_ref().map(|id| id.as_str().to_owned()),
    };
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

pub(super) fn buyer_party(invoice: &Invoice, missing: &mut Vec<LegalTerm>) -> Party {
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
        vat_id: match eu_vat(invoice.parties.customer_tax_id.as_ref()) {
            Some(Ok(id)) => Some(id),
            Some(Err(())) => {
                missing.push(LegalTerm::BuyerVatIdMalformed);
                None
            }
            None => None,
        },
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
pub(super) fn address_of(contact: &ContactAddress) -> Option<Address> {
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

/// An `eu-vat` tax number as a VAT identifier (BR-CO-09: its country prefix first), or
/// `Err` when it is not one; `None` for none, or for another kind of tax number.
fn eu_vat(number: Option<&TaxIdNumber>) -> Option<Result<String, ()>> {
    number
        .filter(|number| number.kind == TaxIdKind::EuVat)
        .map(|number| {
            VatId::parse(number.value.as_str())
                .map(|id| id.as_str().to_owned())
                .map_err(drop)
        })
}

fn text<const N: usize>(value: Option<&BoundedText<N>>) -> Option<String> {
    value.map(|value| value.as_str().to_owned())
}

/// BG-16 from the seller's bank account: a SEPA credit transfer (`58`) in euros into a SEPA
/// account, another credit transfer (`30`) otherwise; the invoice's number is what to quote.
pub(super) fn payment(
    seller: &Organization,
    currency: Currency,
    number: &str,
) -> Option<PaymentInstructions> {
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
