//! Rebilly's ContactObject (an invoice's billing and delivery addresses), contact points
//! (emails, phone numbers) and tax id numbers, as the wire has them.

use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

use super::fields::{FieldReader, string};
use super::openapi::schema::{closed_object, not_blank, nullable, nullable_array, one_of, text};
use crate::domain::contact::{ContactAddress, InvoiceParties, TaxIdKind, TaxIdNumber};
use crate::domain::legal::{AddressPart, ElectronicAddress};
use crate::domain::organization::{ContactPoint, CountryCode, MAX_CONTACT_POINTS};
use crate::domain::text::{BoundedText, looks_blank};

pub(super) fn bounded<const MAX: usize>(raw: &RawValue) -> Result<BoundedText<MAX>, String> {
    BoundedText::parse(string(raw)?)
}

/// Text of at most `MAX` characters with something other than white space in it.
pub(super) fn filled<const MAX: usize>(raw: &RawValue) -> Result<BoundedText<MAX>, String> {
    let value = bounded::<MAX>(raw)?;
    if looks_blank(value.as_str()) {
        Err("must not be empty".to_owned())
    } else {
        Ok(value)
    }
}

/// `emails` or `phoneNumbers`: absent keeps them, `null` or `[]` clears them.
pub(super) fn contact_points(fields: &mut FieldReader, name: &str) -> Option<Vec<ContactPoint>> {
    if !fields.has_value(name) {
        return fields.change(name, |_| Ok(())).map(|_| Vec::new());
    }
    let mut points = Vec::new();
    let mut primaries = 0;
    for mut element in fields.optional_objects(name, MAX_CONTACT_POINTS) {
        let label = element.optional("label", bounded);
        let value = element.required("value", filled::<100>);
        let primary = element
            .optional("primary", |raw| match raw.get() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err("must be true or false".to_owned()),
            })
            .unwrap_or(false);
        primaries += usize::from(primary);
        if let Some(value) = value {
            points.push(ContactPoint {
                label,
                value,
                primary,
            });
        }
        fields.adopt(element, &[]);
    }
    if primaries > 1 {
        fields.reject(name, "at most one may be primary");
    }
    Some(points)
}

/// An email or phone number on the wire.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ContactPoint)]
pub(super) struct ContactResponse {
    label: Option<String>,
    value: String,
    primary: bool,
}

impl ContactResponse {
    pub(super) fn new(point: &ContactPoint) -> Self {
        Self {
            label: owned(&point.label),
            value: point.value.as_str().to_owned(),
            primary: point.primary,
        }
    }

    /// Each of a list of emails or phone numbers.
    pub(super) fn all(points: &[ContactPoint]) -> Vec<Self> {
        points.iter().map(Self::new).collect()
    }
}

/// A bounded text on the wire, as it was given.
pub(super) fn owned<const MAX: usize>(value: &Option<BoundedText<MAX>>) -> Option<String> {
    value.as_ref().map(|value| value.as_str().to_owned())
}

/// A country's code on the wire.
pub(super) fn country_code(code: &Option<CountryCode>) -> Option<String> {
    code.as_ref().map(|code| code.as_str().to_owned())
}

/// An address read from a request: absent or `null` is none; every bad field is named
/// `name.field`.
fn address(fields: &mut FieldReader, name: &str) -> Option<ContactAddress> {
    let mut object = fields.optional_object(name)?;
    let address = ContactAddress {
        first_name: object.optional("firstName", bounded),
        last_name: object.optional("lastName", bounded),
        organization: object.optional("organization", bounded),
        address: object.optional("address", bounded),
        address2: object.optional("address2", bounded),
        city: object.optional("city", bounded),
        region: object.optional("region", bounded),
        country: object.optional("country", |raw| CountryCode::parse(string(raw)?)),
        postal_code: object.optional("postalCode", bounded),
        emails: contact_points(&mut object, "emails").unwrap_or_default(),
        phone_numbers: contact_points(&mut object, "phoneNumbers").unwrap_or_default(),
    };
    fields.adopt(object, &[]);
    Some(address)
}

fn tax_id(fields: &mut FieldReader, name: &str) -> Option<TaxIdNumber> {
    let mut object = fields.optional_object(name)?;
    let kind = object.required("type", |raw| TaxIdKind::parse(&string(raw)?));
    let value = object.required("value", filled::<50>);
    fields.adopt(object, &[]);
    Some(TaxIdNumber {
        kind: kind?,
        value: value?,
    })
}

/// `billingAddress`, `deliveryAddress`, `organizationTaxIdNumber`, `customerTaxIdNumber`,
/// `customerElectronicAddress`, `buyerReference`.
pub(super) fn parse_parties(fields: &mut FieldReader) -> InvoiceParties {
    InvoiceParties {
        billing_address: address(fields, "billingAddress"),
        delivery_address: address(fields, "deliveryAddress"),
        organization_tax_id: tax_id(fields, "organizationTaxIdNumber"),
        customer_tax_id: tax_id(fields, "customerTaxIdNumber"),
        customer_electronic_address: fields
            .optional_object("customerElectronicAddress")
            .and_then(|mut object| {
                let address = electronic_address(&mut object);
                fields.adopt(object, &[]);
                address
            }),
        buyer_reference: fields.optional("buyerReference", filled::<100>),
    }
}

/// `{"scheme", "id"}`: a scheme of the EAS list and an identifier in it.
pub(super) fn electronic_address(object: &mut FieldReader) -> Option<ElectronicAddress> {
    let scheme = object.required("scheme", string);
    let id = object.required("id", string);
    match ElectronicAddress::parse(&scheme?, &id?) {
        Ok(address) => Some(address),
        Err((part, message)) => {
            let field = match part {
                AddressPart::Scheme => "scheme",
                AddressPart::Id => "id",
            };
            object.reject(field, message);
            None
        }
    }
}

/// An electronic address as a request gives it.
pub(super) fn electronic_address_schema() -> ObjectBuilder {
    nullable(closed_object(
        &["scheme", "id"],
        [
            ("scheme", text(4).description(Some("A scheme of the CEF EAS code list: `0088` (GLN), `9930` (German VAT number), `EM` (email), ...")).into()),
            ("id", text(100).into()),
        ],
    ))
}

/// An electronic address on the wire.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ElectronicAddress)]
pub(super) struct ElectronicAddressResponse {
    /// A scheme of the CEF EAS code list (`0088`, `9930`, ...).
    scheme: &'static str,
    /// The identifier within it.
    id: String,
}

impl ElectronicAddressResponse {
    /// The wire form of an electronic address.
    pub(super) fn new(address: &ElectronicAddress) -> Self {
        Self {
            scheme: address.scheme(),
            id: address.id().to_owned(),
        }
    }
}

/// A ContactObject on the wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ContactObject)]
pub(super) struct ContactObjectResponse {
    first_name: Option<String>,
    last_name: Option<String>,
    organization: Option<String>,
    address: Option<String>,
    address2: Option<String>,
    city: Option<String>,
    region: Option<String>,
    country: Option<String>,
    postal_code: Option<String>,
    emails: Vec<ContactResponse>,
    phone_numbers: Vec<ContactResponse>,
}

impl ContactObjectResponse {
    pub(super) fn new(address: &ContactAddress) -> Self {
        Self {
            first_name: owned(&address.first_name),
            last_name: owned(&address.last_name),
            organization: owned(&address.organization),
            address: owned(&address.address),
            address2: owned(&address.address2),
            city: owned(&address.city),
            region: owned(&address.region),
            country: country_code(&address.country),
            postal_code: owned(&address.postal_code),
            emails: ContactResponse::all(&address.emails),
            phone_numbers: ContactResponse::all(&address.phone_numbers),
        }
    }
}

/// A tax id number on the wire.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TaxIdNumber)]
pub(super) struct TaxIdResponse {
    #[serde(rename = "type")]
    #[schema(schema_with = tax_id_kind)]
    kind: &'static str,
    value: String,
}

fn tax_id_kind() -> utoipa::openapi::Object {
    super::openapi::schema::one_of(TaxIdKind::ALL.map(TaxIdKind::as_str)).build()
}

impl TaxIdResponse {
    pub(super) fn new(number: &TaxIdNumber) -> Self {
        Self {
            kind: number.kind.as_str(),
            value: number.value.as_str().to_owned(),
        }
    }
}

/// A country as ISO 3166-1 alpha-2 writes it, or `null`.
pub(super) fn country() -> ObjectBuilder {
    nullable(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[A-Z]{2}$")),
    )
}

/// Rebilly's ContactObject: a billing or delivery address, or `null`.
pub(super) fn contact_object() -> ObjectBuilder {
    let name = [
        ("firstName", nullable(text(45)).into()),
        ("lastName", nullable(text(45)).into()),
        ("organization", nullable(text(255)).into()),
    ];
    nullable(closed_object(
        &[],
        name.into_iter().chain(place_and_contacts()),
    ))
}

/// What a contact and an organization both have, in the contract's order: the address, the
/// place, and the emails and phone numbers.
pub(super) fn place_and_contacts() -> [(&'static str, RefOr<Schema>); 8] {
    let points = || nullable_array(contact_point(), MAX_CONTACT_POINTS).into();
    [
        ("address", nullable(text(60)).into()),
        ("address2", nullable(text(60)).into()),
        ("city", nullable(text(45)).into()),
        ("region", nullable(text(45)).into()),
        ("country", country().into()),
        ("postalCode", nullable(text(10)).into()),
        ("emails", points()),
        ("phoneNumbers", points()),
    ]
}

/// A tax id number shown on the invoice, or `null`.
pub(super) fn tax_id_number() -> ObjectBuilder {
    let value = text(50).pattern(Some(not_blank()));
    nullable(closed_object(
        &["type", "value"],
        [
            ("type", one_of(TaxIdKind::ALL.map(TaxIdKind::as_str)).into()),
            ("value", value.into()),
        ],
    ))
}

/// An email or phone number of an organization.
pub(super) fn contact_point() -> ObjectBuilder {
    let value = text(100).pattern(Some(not_blank()));
    closed_object(
        &["value"],
        [
            ("label", nullable(text(45)).into()),
            ("value", value.into()),
            (
                "primary",
                nullable(ObjectBuilder::new().schema_type(Type::Boolean)).into(),
            ),
        ],
    )
    .description(Some(
        "At most one of a list may be `primary`; absent or `null` is `false`.",
    ))
}
