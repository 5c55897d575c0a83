//! `/products`: create, read and list products.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::fields::{FieldReader, RawObject, canonical_body, string};
use super::openapi::schema::{
    closed_object, named_schema, not_blank, nullable, text, with_read_only,
};
use super::pagination::Page;
use super::paths::IdPath;
use super::wire::{Link, created, json_ok, time};
use crate::domain::ids::ProductId;
use crate::domain::product::MAX_NAME_CHARS;
use crate::domain::product::{Product, ProductDescription, ProductInput, ProductName, UnitLabel};
use crate::error::ApiError;
use crate::http::auth::Principal;
use crate::http::extract::{JsonBody, Path, Query};
use crate::http::failure::Failure;
use crate::http::idempotency::{Idempotency, run_write};
use crate::http::problem::Problem;
use crate::http::state::AppState;
use crate::service::products as service;

/// Read-only fields of a product: accepted and ignored.
const READ_ONLY: &[&str] = &["id", "createdTime", "updatedTime", "_links"];

/// Creates a product.
#[utoipa::path(
    post,
    path = "/products",
    operation_id = "PostProduct",
    tag = "Products",
    request_body(content = ProductRequest, example = json!({"name": "Consulting", "unitLabel": "hour"})),
    responses(
        (status = 201, description = "The product", body = ProductResponse),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    idempotency: Idempotency,
    JsonBody(body): JsonBody,
) -> Result<Response, Failure> {
    let request = idempotency.request(canonical_body(&body));
    let input = parse_product(body)?;
    run_write(&state, &principal, request, async |tx| {
        let product = service::create_product(tx, &principal.organization_id, input).await?;
        Ok(created(
            &state.url(&product_path(&product.id)),
            &ProductResponse::new(&state, &product),
        ))
    })
    .await
}

/// Reads a product.
#[utoipa::path(
    get,
    path = "/products/{id}",
    operation_id = "GetProduct",
    tag = "Products",
    params(IdPath<ProductId>),
    responses(
        (status = 200, description = "The product", body = ProductResponse),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<IdPath<ProductId>>,
) -> Result<Response, Failure> {
    let product_id = path.id()?;
    let product = service::get_product(&state.db, &principal.organization_id, &product_id).await?;
    Ok(json_ok(&ProductResponse::new(&state, &product)))
}

/// Lists products.
///
/// Newest first, then by id descending, with `Pagination-*` headers.
#[utoipa::path(
    get,
    path = "/products",
    operation_id = "GetProductCollection",
    tag = "Products",
    params(Page),
    responses(
        (status = 200, description = "A page of products", body = Vec<ProductResponse>),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    query: Query,
) -> Result<Response, Failure> {
    let page = Page::only(&query)?;
    let found = service::list_products(
        &state.db,
        &principal.organization_id,
        page.limit,
        page.offset,
    )
    .await?;
    Ok(page.answer_each(found.total, &found.products, |product| {
        ProductResponse::new(&state, product)
    }))
}

/// Turns a request body into a product input, naming every bad field at once.
fn parse_product(body: RawObject) -> Result<ProductInput, ApiError> {
    let mut fields = FieldReader::new(body);
    let name = fields.required("name", |raw| ProductName::parse(string(raw)?));
    let description = fields.optional("description", |raw| ProductDescription::parse(string(raw)?));
    let unit_label = fields.optional("unitLabel", |raw| UnitLabel::parse(string(raw)?));
    fields.finish(READ_ONLY)?;
    match name {
        Some(name) => Ok(ProductInput {
            name,
            description,
            unit_label,
        }),
        // `finish` has refused a missing name.
        None => Err(ApiError::validation(Vec::new())),
    }
}

/// The path of a product, relative to the server root.
pub fn product_path(product_id: &ProductId) -> String {
    format!("/products/{product_id}")
}

/// A product on the wire.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Product)]
pub struct ProductResponse {
    #[schema(value_type = String, example = "prod_01JD3G8M9K2QW5X7Y8Z9A0B1C2")]
    id: ProductId,
    name: String,
    description: Option<String>,
    unit_label: Option<String>,
    #[serde(serialize_with = "time")]
    created_time: DateTime<Utc>,
    #[serde(serialize_with = "time")]
    updated_time: DateTime<Utc>,
    #[serde(rename = "_links")]
    links: Vec<Link>,
}

impl ProductResponse {
    /// The wire form of a stored product; also what an item embeds as `_embedded.product`.
    pub fn new(state: &AppState, product: &Product) -> Self {
        Self {
            id: product.id.clone(),
            name: product.name.clone(),
            description: product.description.clone(),
            unit_label: product.unit_label.clone(),
            created_time: product.created_time,
            updated_time: product.updated_time,
            links: vec![Link::to(state, "self", &product_path(&product.id))],
        }
    }
}

named_schema!(
    /// The body of `POST /products`.
    ProductRequest => {
        let name = text(MAX_NAME_CHARS).min_length(Some(1)).pattern(Some(not_blank()));
        let object = closed_object(
            &["name"],
            [
                ("name", name.into()),
                (
                    "description",
                    nullable(text(ProductDescription::MAX_CHARS)).into(),
                ),
                ("unitLabel", nullable(text(UnitLabel::MAX_CHARS)).into()),
            ],
        );
        with_read_only(object, READ_ONLY).into()
    }
);
