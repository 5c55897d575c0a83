//! An invoice's parties (addresses and tax numbers) as one stored JSON value,
//! `invoices.parties`; absent members are unset.

use serde::{Deserialize, Serialize};

use super::corrupt;
use super::organizations::{
    ContactRecord, ElectronicAddressRecord, contact_points, contact_records, country, text,
};
use crate::domain::contact::{ContactAddress, InvoiceParties, TaxIdKind, TaxIdNumber};
use crate::domain::organization::CountryCode;
use crate::domain::text::BoundedText;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct PartiesRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    billing_address: Option<AddressRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delivery_address: Option<AddressRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    organization_tax_id: Option<TaxIdRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    customer_tax_id: Option<TaxIdRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    customer_electronic_address: Option<ElectronicAddressRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    buyer_reference: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AddressRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    organization: Option<String>,
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
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxIdRecord {
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

impl TryFrom<AddressRecord> for ContactAddress {
    type Error = sqlx::Error;

    fn try_from(record: AddressRecord) -> Result<Self, sqlx::Error> {
        Ok(Self {
            first_name: text(record.first_name)?,
            last_name: text(record.last_name)?,
            organization: text(record.organization)?,
            address: text(record.address)?,
            address2: text(record.address2)?,
            city: text(record.city)?,
            region: text(record.region)?,
            country: country(record.country)?,
            postal_code: text(record.postal_code)?,
            emails: contact_points(record.emails)?,
            phone_numbers: contact_points(record.phone_numbers)?,
        })
    }
}

impl From<&ContactAddress> for AddressRecord {
    fn from(address: &ContactAddress) -> Self {
        fn owned<const MAX: usize>(value: &Option<BoundedText<MAX>>) -> Option<String> {
            value.as_ref().map(|value| value.as_str().to_owned())
        }
        Self {
            first_name: owned(&address.first_name),
            last_name: owned(&address.last_name),
            organization: owned(&address.organization),
            address: owned(&address.address),
            address2: owned(&address.address2),
            city: owned(&address.city),
            region: owned(&address.region),
            country: address
                .country
                .as_ref()
                .map(|c| CountryCode::as_str(c).to_owned()),
            postal_code: owned(&address.postal_code),
            emails: contact_records(&address.emails),
            phone_numbers: contact_records(&address.phone_numbers),
        }
    }
}

fn tax_id(record: Option<TaxIdRecord>) -> Result<Option<TaxIdNumber>, sqlx::Error> {
    record
        .map(|record| {
            Ok(TaxIdNumber {
                kind: TaxIdKind::parse(&record.kind)
                    .map_err(|_| corrupt("tax id type", &record.kind))?,
                value: text(Some(record.value))?
                    .ok_or_else(|| corrupt("tax id", "without a value"))?,
            })
        })
        .transpose()
}

fn tax_id_record(number: &Option<TaxIdNumber>) -> Option<TaxIdRecord> {
    number.as_ref().map(|number| TaxIdRecord {
        kind: number.kind.as_str().to_owned(),
        value: number.value.as_str().to_owned(),
    })
}

impl TryFrom<PartiesRecord> for InvoiceParties {
    type Error = sqlx::Error;

    fn try_from(record: PartiesRecord) -> Result<Self, sqlx::Error> {
        Ok(Self {
            billing_address: record.billing_address.map(TryInto::try_into).transpose()?,
            delivery_address: record.delivery_address.map(TryInto::try_into).transpose()?,
            organization_tax_id: tax_id(record.organization_tax_id)?,
            customer_tax_id: tax_id(record.customer_tax_id)?,
            customer_electronic_address: record
                .customer_electronic_address
                .map(TryInto::try_into)
                .transpose()?,
            buyer_reference: text(record.buyer_reference)?,
        })
    }
}

impl From<&InvoiceParties> for PartiesRecord {
    fn from(parties: &InvoiceParties) -> Self {
        Self {
            billing_address: parties.billing_address.as_ref().map(AddressRecord::from),
            delivery_address: parties.delivery_address.as_ref().map(AddressRecord::from),
            organization_tax_id: tax_id_record(&parties.organization_tax_id),
            customer_tax_id: tax_id_record(&parties.customer_tax_id),
            customer_electronic_address: parties
                .customer_electronic_address
                .as_ref()
                .map(ElectronicAddressRecord::from),
            buyer_reference: parties
                .buyer_reference
                .as_ref()
                .map(|reference| reference.as_str().to_owned()),
        }
    }
}
