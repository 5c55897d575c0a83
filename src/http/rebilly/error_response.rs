//! How the Rebilly edge answers a failure: RFC 7807 problem JSON, with its status and the
//! headers that go with it (`WWW-Authenticate`, and those every dialect sends).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::einvoice::refusal::{LegalTerm, Reason, Refusal};
use crate::error::{ApiError, DomainField, InvalidField};
use crate::http::failure::{ErrorDialect, Failure, Rejection};
use crate::http::problem::{Problem, default_detail};

/// The summary of every 422.
const INVALID_FIELDS: &str = "The request has invalid fields.";

/// A field the core checks, as Rebilly's wire names it.
fn field_name(field: DomainField) -> &'static str {
    match field {
        DomainField::ItemProduct => "productId",
        DomainField::ItemInvoice => "invoiceId",
        DomainField::ItemManualTaxAmount => "tax.amount",
        DomainField::InvoiceDueTime => "dueTime",
        DomainField::IdempotencyKey => "Idempotency-Key",
        DomainField::WebhookUrl => "url",
        DomainField::AppliedTransaction => "transactionId",
        DomainField::AppliedAmount => "amount",
        DomainField::CreditedInvoice => "invoiceId",
        DomainField::CreditCustomer => "customerId",
        DomainField::CreditCurrency => "currency",
        DomainField::CreditLines => "items",
        DomainField::CreditShipping => "shippingAmount",
        DomainField::CreditOutOfBand => "allocations",
        DomainField::AllocatedInvoice => "allocations.invoices.invoiceId",
        // Set on `/v1` only; named as there.
        DomainField::InvoiceDaysUntilDue => "days_until_due",
        DomainField::InvoiceMetadata => "metadata",
        DomainField::AllocatedAmount => "allocations.invoices.amount",
    }
}

/// Where a business term an e-invoice lacks is set (on the organization or on the invoice),
/// and what is wrong with it.
fn legal_term_field(term: LegalTerm) -> InvalidField {
    let required = |field: &str| InvalidField::new(field, "is required");
    let prefixed = |field: &str| {
        InvalidField::new(
            field,
            "must be a VAT identifier with its two-letter country prefix, such as DE123456789",
        )
    };
    match term {
        LegalTerm::SellerName => required("organization.legalName"),
        LegalTerm::SellerCountry => required("organization.country"),
        LegalTerm::SellerVatId => InvalidField::new(
            "organization.vatId",
            "is required (or the invoice's organizationTaxIdNumber of type eu-vat)",
        ),
        LegalTerm::SellerVatIdMalformed => prefixed("organizationTaxIdNumber.value"),
        LegalTerm::SellerRegistration => required("organization.registrationNumber"),
        LegalTerm::BuyerName => required("billingAddress.organization"),
        LegalTerm::BuyerCountry => required("billingAddress.country"),
        LegalTerm::BuyerVatId => InvalidField::new(
            "customerTaxIdNumber",
            "is required, of type eu-vat, for reverse charge and intra-community supply",
        ),
        LegalTerm::BuyerVatIdMalformed => prefixed("customerTaxIdNumber.value"),
        LegalTerm::DeliveryCountry => required("deliveryAddress.country"),
        LegalTerm::InvoicePeriod => InvalidField::new(
            "items.periodStartTime",
            "is required, with periodEndTime, on every item of an intra-community supply",
        ),
    }
}

/// Rebilly's way of answering errors.
#[derive(Debug, Clone, Copy)]
pub struct Rebilly;

/// The one instance the router names.
pub static REBILLY: Rebilly = Rebilly;

impl ErrorDialect for Rebilly {
    fn render(&self, failure: &Failure) -> Response {
        let status = failure.status();
        let problem = match failure {
            Failure::Core(ApiError::Validation {
                detail,
                invalid_fields,
            }) => Problem::new(status, detail.clone()).with_invalid_fields(invalid_fields.clone()),
            Failure::Core(ApiError::NoEInvoice(Refusal {
                reason: Reason::Incomplete(terms),
                ..
            })) => Problem::new(status, failure.detail())
                .with_invalid_fields(terms.iter().map(|term| legal_term_field(*term)).collect()),
            Failure::Core(ApiError::InvalidInput { field, rule }) => {
                Problem::new(status, INVALID_FIELDS).with_invalid_fields(vec![InvalidField::new(
                    field_name(*field),
                    rule.to_string(),
                )])
            }
            other => Problem::new(status, other.detail()),
        };
        // RFC 9110: a 401 names a scheme the server accepts.
        let challenge = matches!(failure, Failure::Rejected(Rejection::Unauthorized(_)))
            .then_some([(header::WWW_AUTHENTICATE, "Bearer realm=\"invoice-api\"")]);
        failure.answer_with((challenge, problem))
    }

    fn render_status(&self, status: StatusCode) -> Response {
        Problem::new(status, default_detail(status)).into_response()
    }
}
