//! An organization's details, stored as one JSON value (`organizations.details`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

use super::{Db, Tx, corrupt};
use crate::domain::ids::OrganizationId;
use crate::domain::legal::{BankAccount, Bic, ElectronicAddress, Iban, LegalIdentity, VatId};
use crate::domain::organization::{
    ContactPoint, CountryCode, InvoiceTimeZone, Organization, OrganizationDetails,
};
use crate::domain::text::BoundedText;

/// The stored form of [`OrganizationDetails`]: absent members are unset.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DetailsRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    emails: Vec<ContactRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    phone_numbers: Vec<ContactRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    invoice_time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    legal_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vat_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    registration_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    electronic_address: Option<ElectronicAddressRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bank_account: Option<BankAccountRecord>,
}

/// The stored form of an [`ElectronicAddress`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ElectronicAddressRecord {
    scheme: String,
    id: String,
}

impl From<&ElectronicAddress> for ElectronicAddressRecord {
    fn from(address: &ElectronicAddress) -> Self {
        Self {
            scheme: address.scheme().to_owned(),
            id: address.id().to_owned(),
        }
    }
}

impl TryFrom<ElectronicAddressRecord> for ElectronicAddress {
    type Error = sqlx::Error;

    fn try_from(record: ElectronicAddressRecord) -> Result<Self, sqlx::Error> {
        Self::parse(&record.scheme, &record.id)
            .map_err(|_| corrupt("electronic address", &record.id))
    }
}

/// The stored form of a [`BankAccount`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BankAccountRecord {
    iban: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

/// The stored form of a [`ContactPoint`]; invoices' addresses keep them the same way.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ContactRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    value: String,
    primary: bool,
}

/// A stored text back in its bounds.
pub(super) fn text<const MAX: usize>(
    value: Option<String>,
) -> Result<Option<BoundedText<MAX>>, sqlx::Error> {
    value
        .map(|value| {
            BoundedText::parse(value.clone()).map_err(|_| corrupt("organization detail", &value))
        })
        .transpose()
}

impl TryFrom<DetailsRecord> for OrganizationDetails {
    type Error = sqlx::Error;

    fn try_from(record: DetailsRecord) -> Result<Self, sqlx::Error> {
        Ok(Self {
            name: text(record.name)?,
            address: text(record.address)?,
            address2: text(record.address2)?,
            city: text(record.city)?,
            region: text(record.region)?,
            country: country(record.country)?,
            postal_code: text(record.postal_code)?,
            emails: contact_points(record.emails)?,
            phone_numbers: contact_points(record.phone_numbers)?,
            invoice_time_zone: match record.invoice_time_zone {
                Some(zone) => {
                    InvoiceTimeZone::parse(&zone).map_err(|_| corrupt("time zone", &zone))?
                }
                None => InvoiceTimeZone::UTC,
            },
            default_currency: record
                .default_currency
                .map(|code| super::parse_currency(&code))
                .transpose()?,
            legal: LegalIdentity {
                legal_name: text(record.legal_name)?,
                vat_id: record
                    .vat_id
                    .map(|id| VatId::parse(&id).map_err(|_| corrupt("VAT id", &id)))
                    .transpose()?,
                registration_number: text(record.registration_number)?,
                electronic_address: record
                    .electronic_address
                    .map(ElectronicAddress::try_from)
                    .transpose()?,
                bank_account: record.bank_account.map(bank_account).transpose()?,
            },
        })
    }
}

fn bank_account(record: BankAccountRecord) -> Result<BankAccount, sqlx::Error> {
    Ok(BankAccount {
        iban: Iban::parse(&record.iban).map_err(|_| corrupt("IBAN", &record.iban))?,
        bic: record
            .bic
            .map(|bic| Bic::parse(&bic).map_err(|_| corrupt("BIC", &bic)))
            .transpose()?,
        name: text(record.name)?,
    })
}

impl From<&OrganizationDetails> for DetailsRecord {
    fn from(details: &OrganizationDetails) -> Self {
        let text = |value: Option<&str>| value.map(str::to_owned);
        Self {
            name: text(details.name.as_ref().map(BoundedText::as_str)),
            address: text(details.address.as_ref().map(BoundedText::as_str)),
            address2: text(details.address2.as_ref().map(BoundedText::as_str)),
            city: text(details.city.as_ref().map(BoundedText::as_str)),
            region: text(details.region.as_ref().map(BoundedText::as_str)),
            country: text(details.country.as_ref().map(CountryCode::as_str)),
            postal_code: text(details.postal_code.as_ref().map(BoundedText::as_str)),
            emails: contact_records(&details.emails),
            phone_numbers: contact_records(&details.phone_numbers),
            invoice_time_zone: (details.invoice_time_zone != InvoiceTimeZone::UTC)
                .then(|| details.invoice_time_zone.name().to_owned()),
            default_currency: details
                .default_currency
                .map(|currency| currency.code().to_owned()),
            legal_name: text(details.legal.legal_name.as_ref().map(BoundedText::as_str)),
            vat_id: text(details.legal.vat_id.as_ref().map(VatId::as_str)),
            registration_number: text(
                details
                    .legal
                    .registration_number
                    .as_ref()
                    .map(BoundedText::as_str),
            ),
            electronic_address: details
                .legal
                .electronic_address
                .as_ref()
                .map(ElectronicAddressRecord::from),
            bank_account: details
                .legal
                .bank_account
                .as_ref()
                .map(|account| BankAccountRecord {
                    iban: account.iban.as_str().to_owned(),
                    bic: account.bic.as_ref().map(|bic| bic.as_str().to_owned()),
                    name: account.name.as_ref().map(|name| name.as_str().to_owned()),
                }),
        }
    }
}

/// Stored contact points back as the domain's.
pub(super) fn contact_points(
    records: Vec<ContactRecord>,
) -> Result<Vec<ContactPoint>, sqlx::Error> {
    records
        .into_iter()
        .map(|record| {
            Ok(ContactPoint {
                label: text(record.label)?,
                value: text(Some(record.value))?
                    .ok_or_else(|| corrupt("contact", "without a value"))?,
                primary: record.primary,
            })
        })
        .collect()
}

/// Contact points as stored.
pub(super) fn contact_records(points: &[ContactPoint]) -> Vec<ContactRecord> {
    points
        .iter()
        .map(|point| ContactRecord {
            label: point.label.as_ref().map(|label| label.as_str().to_owned()),
            value: point.value.as_str().to_owned(),
            primary: point.primary,
        })
        .collect()
}

/// A stored country code back as the domain's.
pub(super) fn country(value: Option<String>) -> Result<Option<CountryCode>, sqlx::Error> {
    value
        .map(|code| CountryCode::parse(code.clone()).map_err(|_| corrupt("country", &code)))
        .transpose()
}

fn organization(
    id: &OrganizationId,
    found: Option<(Json<DetailsRecord>, Option<DateTime<Utc>>)>,
) -> Result<Organization, sqlx::Error> {
    let (details, updated_time) = match found {
        Some((Json(record), updated_time)) => (record.try_into()?, updated_time),
        // An organization known only from a token's claim has said nothing yet.
        None => (OrganizationDetails::default(), None),
    };
    Ok(Organization {
        id: id.clone(),
        details,
        updated_time,
    })
}

impl Db {
    /// The organization's details (defaults when it has none stored).
    #[tracing::instrument(skip_all, fields(organization = %organization_id))]
    pub async fn find_organization(
        &self,
        organization_id: &OrganizationId,
    ) -> Result<Organization, sqlx::Error> {
        let found = self
            .on_connection(async |connection| {
                sqlx::query!(
                    r#"select details as "details: Json<DetailsRecord>", updated_time
                       from organizations where id = $1"#,
                    organization_id as &OrganizationId,
                )
                .fetch_optional(connection)
                .await
            })
            .await?;
        organization(
            organization_id,
            found.map(|row| (row.details, row.updated_time)),
        )
    }
}

impl Tx {
    /// The organization's details, its row locked until the transaction ends (created, with
    /// defaults, if it has none).
    pub async fn lock_organization(
        &mut self,
        organization_id: &OrganizationId,
    ) -> Result<Organization, sqlx::Error> {
        sqlx::query!(
            "insert into organizations (id) values ($1) on conflict (id) do nothing",
            organization_id as &OrganizationId,
        )
        .execute(&mut *self.inner)
        .await?;
        let row = sqlx::query!(
            r#"select details as "details: Json<DetailsRecord>", updated_time
               from organizations where id = $1 for update"#,
            organization_id as &OrganizationId,
        )
        .fetch_optional(&mut *self.inner)
        .await?;
        organization(
            organization_id,
            row.map(|row| (row.details, row.updated_time)),
        )
    }

    /// Stores the organization's details.
    pub async fn save_organization(
        &mut self,
        organization: &Organization,
    ) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "update organizations set details = $2, updated_time = $3 where id = $1",
            &organization.id as &OrganizationId,
            Json(DetailsRecord::from(&organization.details)) as Json<DetailsRecord>,
            organization.updated_time,
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }
}
