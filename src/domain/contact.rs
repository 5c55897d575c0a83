//! Who an invoice is for and where it goes (Rebilly's ContactObject), and the tax numbers it
//! shows for either party.

use super::legal::ElectronicAddress;
use super::organization::{ContactPoint, CountryCode, push_place_and_contacts};
use super::text::BoundedText;

/// A person or company and their address, as Rebilly's ContactObject has them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactAddress {
    pub first_name: Option<BoundedText<45>>,
    pub last_name: Option<BoundedText<45>>,
    pub organization: Option<BoundedText<255>>,
    pub address: Option<BoundedText<60>>,
    pub address2: Option<BoundedText<60>>,
    pub city: Option<BoundedText<45>>,
    pub region: Option<BoundedText<45>>,
    pub country: Option<CountryCode>,
    pub postal_code: Option<BoundedText<10>>,
    pub emails: Vec<ContactPoint>,
    pub phone_numbers: Vec<ContactPoint>,
}

impl ContactAddress {
    /// The lines a document prints: the name, the organization, the address, the place, and
    /// each email and phone number; those unset are left out.
    pub fn document_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let name: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .flatten()
            .map(BoundedText::as_str)
            .collect();
        if !name.is_empty() {
            lines.push(name.join(" "));
        }
        lines.extend(self.organization.as_ref().map(|v| v.as_str().to_owned()));
        lines.extend(self.address.as_ref().map(|v| v.as_str().to_owned()));
        lines.extend(self.address2.as_ref().map(|v| v.as_str().to_owned()));
        let place = [
            self.postal_code.as_ref().map(BoundedText::as_str),
            self.city.as_ref().map(BoundedText::as_str),
            self.region.as_ref().map(BoundedText::as_str),
            self.country.as_ref().map(CountryCode::as_str),
        ];
        push_place_and_contacts(&mut lines, place, [&self.emails, &self.phone_numbers]);
        lines
    }
}

/// What kind of tax number: an EU VAT number, or another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxIdKind {
    EuVat,
    Other,
}

impl TaxIdKind {
    /// Both kinds.
    pub const ALL: [Self; 2] = [Self::EuVat, Self::Other];

    /// The wire and stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EuVat => "eu-vat",
            Self::Other => "other",
        }
    }

    /// Reads the spelling.
    pub fn parse(value: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
            .ok_or_else(|| "must be eu-vat or other".to_owned())
    }

    /// How a document labels it.
    pub fn label(self) -> &'static str {
        match self {
            Self::EuVat => "VAT number",
            Self::Other => "Tax number",
        }
    }
}

/// A tax identification number shown on an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxIdNumber {
    pub kind: TaxIdKind,
    pub value: BoundedText<50>,
}

impl TaxIdNumber {
    /// `VAT number GB980780684`.
    pub fn document_line(&self) -> String {
        format!("{} {}", self.kind.label(), self.value.as_str())
    }
}

/// The parties' details an invoice shows beyond their ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceParties {
    pub billing_address: Option<ContactAddress>,
    pub delivery_address: Option<ContactAddress>,
    pub organization_tax_id: Option<TaxIdNumber>,
    pub customer_tax_id: Option<TaxIdNumber>,
    /// The buyer's address on an e-invoicing network such as Peppol (BT-49).
    pub customer_electronic_address: Option<ElectronicAddress>,
    /// What the buyer asks its invoices to quote, such as a German Leitweg-ID (BT-10).
    pub buyer_reference: Option<BuyerReference>,
}

/// A buyer's reference: at most 100 characters.
pub type BuyerReference = BoundedText<100>;
