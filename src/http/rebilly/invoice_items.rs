//! `/invoices/{id}/items`: create, replace, read, list and delete invoice items.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

use super::etag::{Precondition, with_etag};
use super::fields::canonical_body;
use super::item_body::{ItemRequest, item_example, parse_item};
use super::item_vat::ItemVatResponse;
use super::openapi::item_type;
use super::pagination::Page;
use super::paths::{IdPath, InvoicePartPath, invoice_path};
use super::products::{ProductResponse, product_path};
use super::tax::TaxResponse;
use super::wire::{Link, created, json_ok, time, time_option};
use crate::domain::ids::{InvoiceId, InvoiceItemId, OrganizationId, ProductId};
use crate::domain::invoice_item::{InvoiceItem, ItemType, PeriodNumber};
use crate::domain::money;
use crate::domain::product::Product;
use crate::error::ApiError;
use crate::http::auth::Principal;
use crate::http::extract::{JsonBody, Path, Query};
use crate::http::failure::Failure;
use crate::http::idempotency::{Idempotency, run_item_write};
use crate::http::problem::{InvalidField, Problem};
use crate::http::state::AppState;
use crate::service::invoice_items as service;
use crate::service::item_writes::ItemWrite;
use crate::service::products;

/// Path of one item.
type ItemPath = InvoicePartPath<InvoiceItemId>;

/// Adds an item to a draft invoice.
#[utoipa::path(
    post,
    path = "/invoices/{id}/items",
    operation_id = "PostInvoiceItem",
    tag = "Invoice items",
    params(IdPath<InvoiceId>),
    request_body(content = ItemRequest, example = item_example),
    responses(
        (status = 201, description = "The item; the invoice's totals include it", body = ItemResponse),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invoice is not a draft", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<InvoiceId>>,
    idempotency: Idempotency,
    JsonBody(body): JsonBody,
) -> Result<Response, Failure> {
    let request = idempotency.request(canonical_body(&body));
    let input = parse_item(body)?;
    let invoice_id = path.id()?;
    let organization_id = &principal.organization_id;
    let respond = |item: &InvoiceItem| {
        let response = created(
            &state.url(&item_path(item)),
            &ItemResponse::new(&state, item),
        );
        with_etag(response, item.revision)
    };
    let write = ItemWrite::create(input);
    run_item_write(&state, &principal, request, async |lanes, tx| {
        let item = lanes.write(tx, organization_id, &invoice_id, write).await?;
        Ok(respond(&item))
    })
    .await
}

/// Replaces an item of a draft invoice.
///
/// Replaces the whole item (only the version `If-Match` names, when given).
#[utoipa::path(
    put,
    path = "/invoices/{id}/items/{itemId}",
    operation_id = "PutInvoiceItem",
    tag = "Invoice items",
    params(ItemPath),
    request_body(content = ItemRequest, example = item_example),
    responses(
        (status = 200, description = "The item, replaced", body = ItemResponse),
        (status = 404, description = "No such invoice or item", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invoice is not a draft", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn replace(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<ItemPath>,
    Precondition(if_match): Precondition,
    JsonBody(body): JsonBody,
) -> Result<Response, Failure> {
    let input = parse_item(body)?;
    let (invoice_id, item_id) = path.ids()?;
    let organization_id = &principal.organization_id;
    let write = ItemWrite::Replace {
        item_id,
        input,
        if_match,
        terms: None,
    };
    let item = state
        .item_writes
        .write(None, organization_id, &invoice_id, write)
        .await?;
    Ok(with_etag(
        json_ok(&ItemResponse::new(&state, &item)),
        item.revision,
    ))
}

/// Reads an item of an invoice.
#[utoipa::path(
    get,
    path = "/invoices/{id}/items/{itemId}",
    operation_id = "GetInvoiceItem",
    tag = "Invoice items",
    params(ItemPath, Expand),
    responses(
        (status = 200, description = "The item", body = ItemResponse),
        (status = 404, description = "No such invoice or item", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `expand`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<ItemPath>,
    query: Query,
) -> Result<Response, Failure> {
    let mut errors = Vec::new();
    let expand = Expand::from_query(&query, &mut errors);
    ApiError::unless_invalid(errors)?;
    let (invoice_id, item_id) = path.ids()?;
    let organization_id = &principal.organization_id;
    let item = service::get_item(&state.item_reads, organization_id, &invoice_id, &item_id).await?;
    let revision = item.revision;
    let items = [item];
    let responses = expand.responses(&state, organization_id, &items).await?;
    Ok(with_etag(json_ok(&responses[0]), revision))
}

/// Lists an invoice's items.
///
/// Oldest first, then by id, with `Pagination-*` headers.
#[utoipa::path(
    get,
    path = "/invoices/{id}/items",
    operation_id = "GetInvoiceItemCollection",
    tag = "Invoice items",
    params(IdPath<InvoiceId>, Page, Expand),
    responses(
        (status = 200, description = "A page of the invoice's items", body = Vec<ItemResponse>),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `limit`, `offset` or `expand`", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<InvoiceId>>,
    query: Query,
) -> Result<Response, Failure> {
    let mut errors = Vec::new();
    let page = Page::from_query(&query, &mut errors);
    let expand = Expand::from_query(&query, &mut errors);
    ApiError::unless_invalid(errors)?;
    let invoice_id = path.id()?;
    let organization_id = &principal.organization_id;
    let found = service::list_items(
        &state.db,
        organization_id,
        &invoice_id,
        page.limit,
        page.offset,
    )
    .await?;
    let items = expand
        .responses(&state, organization_id, &found.items)
        .await?;
    Ok(page.answer(found.total, &items))
}

/// Deletes an item of a draft invoice.
///
/// 204 (only the version `If-Match` names, when given).
#[utoipa::path(
    delete,
    path = "/invoices/{id}/items/{itemId}",
    operation_id = "DeleteInvoiceItem",
    tag = "Invoice items",
    params(ItemPath),
    responses(
        (status = 204, description = "Deleted; the invoice's totals no longer include it"),
        (status = 404, description = "No such invoice or item", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invoice is not a draft", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<ItemPath>,
    Precondition(if_match): Precondition,
) -> Result<Response, Failure> {
    let (invoice_id, item_id) = path.ids()?;
    let organization_id = &principal.organization_id;
    let write = ItemWrite::Delete { item_id, if_match };
    state
        .item_writes
        .write(None, organization_id, &invoice_id, write)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// What `?expand=` asks to embed: `product` is the one thing an item can embed.
#[derive(Debug, Clone, Copy, Default)]
struct Expand {
    product: bool,
}

impl IntoParams for Expand {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("expand")
                .parameter_in(ParameterIn::Query)
                .description(Some(
                    "`product` embeds the item's product in `_embedded` (a comma-separated \
                     list of names; `product` is the one an item has).",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(r"^[ \t\n\f\r]*(product)?[ \t\n\f\r]*(,[ \t\n\f\r]*(product)?[ \t\n\f\r]*)*$")),
                ))
                .build(),
        ]
    }
}

impl Expand {
    fn from_query(query: &Query, errors: &mut Vec<InvalidField>) -> Self {
        let mut expand = Self::default();
        let Some(names) = query.get("expand") else {
            return expand;
        };
        for name in names
            .split(',')
            .map(str::trim_ascii)
            .filter(|name| !name.is_empty())
        {
            if name == "product" {
                expand.product = true;
            } else {
                errors.push(InvalidField::new(
                    "expand",
                    format!("cannot expand {name}; an item can expand product"),
                ));
            }
        }
        expand
    }

    /// The items on the wire, with `_embedded` when something was asked for.
    async fn responses(
        self,
        state: &AppState,
        organization_id: &OrganizationId,
        items: &[InvoiceItem],
    ) -> Result<Vec<ItemResponse>, ApiError> {
        if !self.product {
            return Ok(items
                .iter()
                .map(|item| ItemResponse::new(state, item))
                .collect());
        }
        let products = products::products_of_items(&state.db, organization_id, items).await?;
        Ok(items
            .iter()
            .map(|item| {
                let product = item.product_id.as_ref().and_then(|id| products.get(id));
                ItemResponse::new(state, item).with_product(state, product)
            })
            .collect())
    }
}

/// `self`, and `product` when the item names one.
fn item_links(state: &AppState, item: &InvoiceItem) -> Vec<Link> {
    let mut links = vec![Link::to(state, "self", &item_path(item))];
    if let Some(product_id) = &item.product_id {
        links.push(Link::to(state, "product", &product_path(product_id)));
    }
    links
}

fn item_path(item: &InvoiceItem) -> String {
    format!("{}/items/{}", invoice_path(&item.invoice_id), item.id)
}

/// An invoice item on the wire: every field of Rebilly's response.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = InvoiceItem)]
pub struct ItemResponse {
    #[schema(value_type = String, example = "ii_01JD3G8M9K2QW5X7Y8Z9A0B1C2")]
    id: InvoiceItemId,
    #[serde(rename = "type")]
    #[schema(schema_with = item_type)]
    item_type: ItemType,
    description: Option<String>,
    #[serde(serialize_with = "money::serialize")]
    unit_price: Decimal,
    quantity: i64,
    /// `unitPrice` × `quantity`.
    #[serde(serialize_with = "money::serialize")]
    price: Decimal,
    #[schema(value_type = Option<String>)]
    product_id: Option<ProductId>,
    plan_id: Option<String>,
    subscription_id: Option<String>,
    /// This item's share of the invoice's discounts.
    #[serde(serialize_with = "money::serialize")]
    discount_amount: Decimal,
    #[serde(serialize_with = "time_option")]
    period_start_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "time_option")]
    period_end_time: Option<DateTime<Utc>>,
    period_number: Option<i32>,
    #[serde(serialize_with = "time")]
    created_time: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    updated_time: DateTime<Utc>,
    tax: Option<TaxResponse>,
    /// The item's own VAT category and rate, where it gives one.
    vat: Option<ItemVatResponse>,
    #[serde(rename = "_links")]
    links: Vec<Link>,
    /// With `?expand=product` only.
    #[serde(rename = "_embedded", skip_serializing_if = "Option::is_none")]
    #[schema(required = false, value_type = Embedded)]
    embedded: Option<Embedded>,
}

/// What `?expand=product` adds: the item's product, or null when it names none.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InvoiceItemEmbedded)]
struct Embedded {
    product: Option<ProductResponse>,
}

impl ItemResponse {
    /// The wire form of a stored item.
    pub fn new(state: &AppState, item: &InvoiceItem) -> Self {
        let tax = item.tax.as_ref().map(TaxResponse::new);
        Self {
            id: item.id.clone(),
            item_type: item.item_type,
            description: item
                .description
                .as_ref()
                .map(|text| text.as_str().to_owned()),
            unit_price: item.unit_price.amount(),
            quantity: item.quantity.get(),
            price: item.price,
            product_id: item.product_id.clone(),
            plan_id: None,
            subscription_id: item
                .extras
                .subscription_id
                .as_ref()
                .map(|id| id.as_str().to_owned()),
            discount_amount: item.discount_amount,
            period_start_time: item.period_start_time,
            period_end_time: item.period_end_time,
            period_number: item.period_number.map(PeriodNumber::get),
            created_time: item.created_time,
            updated_time: item.updated_time,
            tax,
            vat: item.vat.as_ref().map(ItemVatResponse::new),
            links: item_links(state, item),
            embedded: None,
        }
    }

    fn with_product(self, state: &AppState, product: Option<&Product>) -> Self {
        Self {
            embedded: Some(Embedded {
                product: product.map(|product| ProductResponse::new(state, product)),
            }),
            ..self
        }
    }
}
