//! `/organizations/{organizationId}`: the caller's organization, whose details its invoice
//! documents show as the seller (Rebilly's Organization, in part).

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::contact::place_and_contacts;
use super::contact::{
    ContactResponse, ElectronicAddressResponse, bounded, contact_points, country_code,
    electronic_address, electronic_address_schema, filled, owned,
};
use super::fields::{FieldReader, RawObject, string};
use super::openapi::schema::{closed_object, named_schema, nullable, one_of, text, with_read_only};
use super::wire::{Link, json_ok, time_option};
use crate::domain::currency::Currency;
use crate::domain::legal::{BankAccount, Bic, Iban, LegalIdentity, VatId};
use crate::domain::organization::{CountryCode, InvoiceTimeZone, Organization, OrganizationChange};
use crate::error::ApiError;
use crate::http::auth::Principal;
use crate::http::extract::{JsonBody, Path};
use crate::http::failure::Failure;
use crate::http::idempotency::run_unkeyed_write;
use crate::http::problem::Problem;
use crate::http::state::AppState;
use crate::service::organizations as service;

/// Read-only fields of Rebilly's Organization: accepted in a request and ignored.
const READ_ONLY: &[&str] = &["id", "createdTime", "updatedTime", "_links"];

/// Path of one organization.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OrganizationPath {
    /// The organization id: the caller's own.
    #[serde(rename = "organizationId")]
    #[param(rename = "organizationId")]
    organization_id: String,
}

/// Reads the caller's organization.
///
/// The caller's organization.
#[utoipa::path(
    get,
    path = "/organizations/{organizationId}",
    operation_id = "GetOrganization",
    tag = "Organizations",
    params(OrganizationPath),
    responses(
        (status = 200, description = "The organization", body = OrganizationResponse),
        (status = 403, description = "Another organization than the caller's", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<OrganizationPath>,
) -> Result<Response, Failure> {
    let organization =
        service::get_organization(&state.db, &principal.organization_id, &path.organization_id)
            .await?;
    Ok(json_ok(&OrganizationResponse::new(&state, &organization)))
}

/// Changes the caller's organization.
///
/// Changes the fields given (`null` clears one).
#[utoipa::path(
    patch,
    path = "/organizations/{organizationId}",
    operation_id = "PatchOrganization",
    tag = "Organizations",
    params(OrganizationPath),
    request_body(content = OrganizationRequest, example = json!({"name": "Acme Ltd", "address": "36 Craven St", "city": "London", "postalCode": "WC2N 5NF", "country": "GB", "emails": [{"label": "billing", "value": "billing@acme.example", "primary": true}], "invoiceTimeZone": "Europe/London"})),
    responses(
        (status = 200, description = "The organization, changed", body = OrganizationResponse),
        (status = 403, description = "Another organization than the caller's", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn patch(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<OrganizationPath>,
    JsonBody(body): JsonBody,
) -> Result<Response, Failure> {
    let change = parse_change(body)?;
    let caller = &principal.organization_id;
    run_unkeyed_write(&state, &principal, async |tx| {
        let organization =
            service::change_organization(tx, caller, &path.organization_id, change).await?;
        Ok(json_ok(&OrganizationResponse::new(&state, &organization)))
    })
    .await
}

/// A partial update, naming every bad field at once.
fn parse_change(body: RawObject) -> Result<OrganizationChange, ApiError> {
    let mut fields = FieldReader::new(body);
    let change = OrganizationChange {
        name: fields.change("name", bounded),
        address: fields.change("address", bounded),
        address2: fields.change("address2", bounded),
        city: fields.change("city", bounded),
        region: fields.change("region", bounded),
        country: fields.change("country", |raw| CountryCode::parse(string(raw)?)),
        postal_code: fields.change("postalCode", bounded),
        emails: contact_points(&mut fields, "emails"),
        phone_numbers: contact_points(&mut fields, "phoneNumbers"),
        invoice_time_zone: fields
            .change("invoiceTimeZone", |raw| {
                InvoiceTimeZone::parse(&string(raw)?)
            })
            // `null` sets it back to UTC.
            .map(|zone| zone.unwrap_or(InvoiceTimeZone::UTC)),
        default_currency: fields.change("defaultCurrency", |raw| {
            Currency::parse(&string(raw)?).map_err(|error| error.to_string())
        }),
        legal_name: fields.change("legalName", filled),
        vat_id: fields.change("vatId", |raw| VatId::parse(&string(raw)?)),
        registration_number: fields.change("registrationNumber", filled),
        electronic_address: object_change(&mut fields, "electronicAddress", electronic_address),
        bank_account: object_change(&mut fields, "bankAccount", bank_account),
    };
    fields.finish(READ_ONLY)?;
    Ok(change)
}

/// A nested object of a partial update: absent is `None` (kept), `null` is `Some(None)`
/// (cleared), an object is read whole by `read`, which names its own bad fields.
fn object_change<T>(
    fields: &mut FieldReader,
    name: &str,
    read: impl FnOnce(&mut FieldReader) -> Option<T>,
) -> Option<Option<T>> {
    if !fields.has_value(name) {
        let present = fields.has(name);
        fields.skip(name);
        return present.then_some(None);
    }
    let mut object = fields.optional_object(name)?;
    let value = read(&mut object);
    fields.adopt(object, &[]);
    value.map(Some)
}

/// `{"iban", "bic", "accountName"}`: the IBAN required, its check digits verified.
fn bank_account(object: &mut FieldReader) -> Option<BankAccount> {
    let iban = object.required("iban", |raw| Iban::parse(&string(raw)?));
    let bic = object.optional("bic", |raw| Bic::parse(&string(raw)?));
    let name = object.optional("accountName", filled);
    Some(BankAccount {
        iban: iban?,
        bic,
        name,
    })
}

/// An organization on the wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Organization)]
pub struct OrganizationResponse {
    id: String,
    name: Option<String>,
    address: Option<String>,
    address2: Option<String>,
    city: Option<String>,
    region: Option<String>,
    country: Option<String>,
    postal_code: Option<String>,
    emails: Vec<ContactResponse>,
    phone_numbers: Vec<ContactResponse>,
    /// The IANA time zone invoice documents print their dates in.
    invoice_time_zone: String,
    /// The currency of an invoice made on `/v1` without one (not in Rebilly's schema).
    #[schema(value_type = Option<String>)]
    default_currency: Option<Currency>,
    /// The registered name, where it differs from `name` (not in Rebilly's schema).
    legal_name: Option<String>,
    /// The VAT identifier, with its country prefix (not in Rebilly's schema).
    vat_id: Option<String>,
    /// The number in a trade or company register (not in Rebilly's schema).
    registration_number: Option<String>,
    /// The address on an e-invoicing network such as Peppol (not in Rebilly's schema).
    electronic_address: Option<ElectronicAddressResponse>,
    /// The account invoices ask to be paid into (not in Rebilly's schema).
    bank_account: Option<BankAccountResponse>,
    /// When its details last changed; `null` while they never have.
    #[serde(serialize_with = "time_option")]
    updated_time: Option<DateTime<Utc>>,
    #[serde(rename = "_links")]
    links: Vec<Link>,
}

impl OrganizationResponse {
    fn new(state: &AppState, organization: &Organization) -> Self {
        let details = &organization.details;
        Self {
            id: organization.id.to_string(),
            name: owned(&details.name),
            address: owned(&details.address),
            address2: owned(&details.address2),
            city: owned(&details.city),
            region: owned(&details.region),
            country: country_code(&details.country),
            postal_code: owned(&details.postal_code),
            emails: ContactResponse::all(&details.emails),
            phone_numbers: ContactResponse::all(&details.phone_numbers),
            invoice_time_zone: details.invoice_time_zone.name().to_owned(),
            default_currency: details.default_currency,
            legal_name: owned(&details.legal.legal_name),
            vat_id: details
                .legal
                .vat_id
                .as_ref()
                .map(|id| id.as_str().to_owned()),
            registration_number: owned(&details.legal.registration_number),
            electronic_address: details
                .legal
                .electronic_address
                .as_ref()
                .map(ElectronicAddressResponse::new),
            bank_account: BankAccountResponse::new(&details.legal),
            updated_time: organization.updated_time,
            links: vec![Link::to(
                state,
                "self",
                &format!("/organizations/{}", organization.id),
            )],
        }
    }
}

/// A bank account on the wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BankAccount)]
struct BankAccountResponse {
    /// Without spaces.
    iban: String,
    bic: Option<String>,
    account_name: Option<String>,
}

impl BankAccountResponse {
    fn new(legal: &LegalIdentity) -> Option<Self> {
        let account = legal.bank_account.as_ref()?;
        Some(Self {
            iban: account.iban.as_str().to_owned(),
            bic: account.bic.as_ref().map(|bic| bic.as_str().to_owned()),
            account_name: owned(&account.name),
        })
    }
}

named_schema!(
    /// The body of `PATCH /organizations/{organizationId}`: the fields to change; `null`
    /// clears one (`invoiceTimeZone` back to UTC).
    OrganizationRequest => {
        let time_zone = nullable(text(50)).description(Some(
            "An IANA time zone (`America/New_York`, `Europe/London`, `UTC`), in which invoice \
             documents print their dates.",
        ));
        let name = ("name", nullable(text(60)).into());
        let zone = ("invoiceTimeZone", time_zone.into());
        let currency = (
            "defaultCurrency",
            nullable(one_of(Currency::codes()))
                .description(Some("The currency of an invoice made on `/v1` without one."))
                .into(),
        );
        let legal = [
            (
                "legalName",
                nullable(text(255))
                    .description(Some("The registered name, where it differs from `name`."))
                    .into(),
            ),
            (
                "vatId",
                nullable(text(15))
                    .description(Some(
                        "The VAT identifier: a two-letter country prefix and 2 to 13 letters or \
                         digits (`DE123456789`); spaces are dropped.",
                    ))
                    .into(),
            ),
            (
                "registrationNumber",
                nullable(text(100))
                    .description(Some("The number in a trade or company register."))
                    .into(),
            ),
            (
                "electronicAddress",
                electronic_address_schema()
                .description(Some("The address on an e-invoicing network such as Peppol."))
                .into(),
            ),
            (
                "bankAccount",
                nullable(closed_object(
                    &["iban"],
                    [
                        ("iban", text(42).description(Some("An IBAN; spaces are dropped, its check digits verified.")).into()),
                        ("bic", nullable(text(11)).into()),
                        ("accountName", nullable(text(70)).into()),
                    ],
                ))
                .description(Some("The account invoices ask to be paid into."))
                .into(),
            ),
        ];
        let fields = std::iter::once(name)
            .chain(place_and_contacts())
            .chain([zone, currency])
            .chain(legal);
        let object = closed_object(&[], fields);
        with_read_only(object, READ_ONLY).into()
    }
);
