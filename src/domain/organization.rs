//! An organization's details as its invoices show them: who sells, where, how to reach them,
//! and the time zone its invoice dates are printed in.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::currency::Currency;
use super::ids::OrganizationId;
use super::legal::{BankAccount, ElectronicAddress, LegalIdentity, VatId};
use super::text::BoundedText;

/// At most this many emails, and as many phone numbers.
pub const MAX_CONTACT_POINTS: usize = 10;

/// An email or a phone number, with its label; one of each kind may be the primary one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPoint {
    /// What it is for (`billing`, `main`).
    pub label: Option<BoundedText<45>>,
    /// The address or number itself.
    pub value: BoundedText<100>,
    /// Whether it is the one to use first.
    pub primary: bool,
}

/// A country as ISO 3166-1 alpha-2 writes it (`GB`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCode(String);

impl CountryCode {
    /// Two capital letters.
    pub fn parse(value: String) -> Result<Self, String> {
        if value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(value))
        } else {
            Err("must be an ISO 3166-1 alpha-2 country code, such as GB".to_owned())
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA time zone (`America/New_York`), in which invoice dates are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvoiceTimeZone(Tz);

impl InvoiceTimeZone {
    /// UTC, the default.
    pub const UTC: Self = Self(Tz::UTC);

    /// A name of the IANA time zone database.
    pub fn parse(value: &str) -> Result<Self, String> {
        value
            .parse::<Tz>()
            .map(Self)
            .map_err(|_| "must be an IANA time zone, such as America/New_York or UTC".to_owned())
    }

    /// The zone's name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The day `time` falls on in this zone, `2026-12-01`.
    pub fn day(self, time: DateTime<Utc>) -> String {
        self.date(time).format("%Y-%m-%d").to_string()
    }

    /// The date `time` falls on in this zone.
    pub fn date(self, time: DateTime<Utc>) -> NaiveDate {
        time.with_timezone(&self.0).date_naive()
    }
}

/// What an organization says of itself; every field may be unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationDetails {
    pub name: Option<BoundedText<60>>,
    pub address: Option<BoundedText<60>>,
    pub address2: Option<BoundedText<60>>,
    pub city: Option<BoundedText<45>>,
    pub region: Option<BoundedText<45>>,
    pub country: Option<CountryCode>,
    pub postal_code: Option<BoundedText<10>>,
    pub emails: Vec<ContactPoint>,
    pub phone_numbers: Vec<ContactPoint>,
    pub invoice_time_zone: InvoiceTimeZone,
    /// The currency of an invoice made without one (the Stripe-style dialect's).
    pub default_currency: Option<Currency>,
    /// What its legal e-invoices and its documents say of it beyond the above.
    pub legal: LegalIdentity,
}

impl Default for OrganizationDetails {
    fn default() -> Self {
        Self {
            name: None,
            address: None,
            address2: None,
            city: None,
            region: None,
            country: None,
            postal_code: None,
            emails: Vec::new(),
            phone_numbers: Vec::new(),
            invoice_time_zone: InvoiceTimeZone::UTC,
            default_currency: None,
            legal: LegalIdentity::default(),
        }
    }
}

impl OrganizationDetails {
    /// The seller's block of a document: the name (else the id), then the address and
    /// contact lines, the registered name and the registration number that are set.
    pub fn document_lines(&self, id: &OrganizationId) -> Vec<String> {
        let mut lines = vec![
            self.name
                .as_ref()
                .map_or_else(|| id.to_string(), |name| name.as_str().to_owned()),
        ];
        let text = |value: &Option<BoundedText<60>>| value.as_ref().map(|v| v.as_str().to_owned());
        lines.extend(text(&self.address));
        lines.extend(text(&self.address2));
        let place = [
            self.postal_code.as_ref().map(BoundedText::as_str),
            self.city.as_ref().map(BoundedText::as_str),
            self.region.as_ref().map(BoundedText::as_str),
            self.country.as_ref().map(CountryCode::as_str),
        ];
        push_place_and_contacts(&mut lines, place, [&self.emails, &self.phone_numbers]);
        let legal = &self.legal;
        lines.extend(
            legal
                .legal_name
                .as_ref()
                .map(|name| name.as_str().to_owned()),
        );
        lines.extend(
            legal
                .registration_number
                .as_ref()
                .map(|number| format!("Registration {}", number.as_str())),
        );
        lines
    }

    /// The VAT number line of a document, when one is set.
    pub fn vat_line(&self) -> Option<String> {
        self.legal
            .vat_id
            .as_ref()
            .map(|id| format!("VAT number {}", id.as_str()))
    }

    /// Where to pay, for a document's payment block: the IBAN, the BIC and the account's name
    /// that are set.
    pub fn payment_lines(&self) -> Vec<String> {
        let Some(account) = &self.legal.bank_account else {
            return Vec::new();
        };
        let mut lines = vec![format!("IBAN {}", account.iban.as_str())];
        lines.extend(
            account
                .bic
                .as_ref()
                .map(|bic| format!("BIC {}", bic.as_str())),
        );
        lines.extend(
            account
                .name
                .as_ref()
                .map(|name| format!("Account {}", name.as_str())),
        );
        lines
    }
}

/// Adds to a document's block the place line (postal code, city, region, country: those set)
/// and one line per email and phone number.
pub(super) fn push_place_and_contacts(
    lines: &mut Vec<String>,
    place: [Option<&str>; 4],
    contacts: [&[ContactPoint]; 2],
) {
    let place: Vec<&str> = place.into_iter().flatten().collect();
    if !place.is_empty() {
        lines.push(place.join(" "));
    }
    for point in contacts.into_iter().flatten() {
        lines.push(point.value.as_str().to_owned());
    }
}

/// A change to some of an organization's details: each field absent (kept), `None` (cleared,
/// back to its default) or a new value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationChange {
    pub name: Option<Option<BoundedText<60>>>,
    pub address: Option<Option<BoundedText<60>>>,
    pub address2: Option<Option<BoundedText<60>>>,
    pub city: Option<Option<BoundedText<45>>>,
    pub region: Option<Option<BoundedText<45>>>,
    pub country: Option<Option<CountryCode>>,
    pub postal_code: Option<Option<BoundedText<10>>>,
    pub emails: Option<Vec<ContactPoint>>,
    pub phone_numbers: Option<Vec<ContactPoint>>,
    pub invoice_time_zone: Option<InvoiceTimeZone>,
    pub default_currency: Option<Option<Currency>>,
    pub legal_name: Option<Option<BoundedText<255>>>,
    pub vat_id: Option<Option<VatId>>,
    pub registration_number: Option<Option<BoundedText<100>>>,
    pub electronic_address: Option<Option<ElectronicAddress>>,
    pub bank_account: Option<Option<BankAccount>>,
}

impl OrganizationChange {
    /// `details` with the change made.
    pub fn apply(self, details: OrganizationDetails) -> OrganizationDetails {
        OrganizationDetails {
            name: self.name.unwrap_or(details.name),
            address: self.address.unwrap_or(details.address),
            address2: self.address2.unwrap_or(details.address2),
            city: self.city.unwrap_or(details.city),
            region: self.region.unwrap_or(details.region),
            country: self.country.unwrap_or(details.country),
            postal_code: self.postal_code.unwrap_or(details.postal_code),
            emails: self.emails.unwrap_or(details.emails),
            phone_numbers: self.phone_numbers.unwrap_or(details.phone_numbers),
            invoice_time_zone: self.invoice_time_zone.unwrap_or(details.invoice_time_zone),
            default_currency: self.default_currency.unwrap_or(details.default_currency),
            legal: LegalIdentity {
                legal_name: self.legal_name.unwrap_or(details.legal.legal_name),
                vat_id: self.vat_id.unwrap_or(details.legal.vat_id),
                registration_number: self
                    .registration_number
                    .unwrap_or(details.legal.registration_number),
                electronic_address: self
                    .electronic_address
                    .unwrap_or(details.legal.electronic_address),
                bank_account: self.bank_account.unwrap_or(details.legal.bank_account),
            },
        }
    }
}

/// An organization as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrganizationId,
    pub details: OrganizationDetails,
    /// When its details last changed; `None` while they never have.
    pub updated_time: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_and_countries_are_checked() {
        assert!(InvoiceTimeZone::parse("America/New_York").is_ok());
        assert!(InvoiceTimeZone::parse("Mars/Olympus").is_err());
        let late = "2026-12-01T03:00:00Z".parse().unwrap();
        assert_eq!(InvoiceTimeZone::UTC.day(late), "2026-12-01");
        assert_eq!(
            InvoiceTimeZone::parse("America/New_York")
                .unwrap()
                .day(late),
            "2026-11-30"
        );
        assert!(CountryCode::parse("GB".into()).is_ok());
        assert!(CountryCode::parse("gb".into()).is_err());
        assert!(CountryCode::parse("GBR".into()).is_err());
    }

    #[test]
    fn a_change_keeps_what_it_does_not_name() {
        let details = OrganizationDetails {
            city: Some(BoundedText::parse("Austin".into()).unwrap()),
            ..OrganizationDetails::default()
        };
        let change = OrganizationChange {
            name: Some(Some(BoundedText::parse("Acme".into()).unwrap())),
            region: Some(None),
            ..OrganizationChange::default()
        };
        let changed = change.apply(details);
        assert_eq!(changed.name.unwrap().as_str(), "Acme");
        assert_eq!(changed.city.unwrap().as_str(), "Austin");
        assert_eq!(changed.region, None);
    }
}
