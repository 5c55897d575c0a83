//! Product use cases.

use std::collections::HashMap;

use chrono::Utc;

use crate::domain::ids::{OrganizationId, ProductId};
use crate::domain::invoice_item::InvoiceItem;
use crate::domain::product::{Product, ProductInput};
use crate::error::{ApiError, Resource};
use crate::repository::{Db, ProductPage, Tx};

/// Creates a product, in the caller's transaction.
#[tracing::instrument(skip_all)]
pub async fn create_product(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    input: ProductInput,
) -> Result<Product, ApiError> {
    let now = Utc::now();
    let product = Product {
        id: ProductId::generate(),
        name: input.name.into_string(),
        description: input
            .description
            .map(|description| description.into_string()),
        unit_label: input.unit_label.map(|unit_label| unit_label.into_string()),
        created_time: now,
        updated_time: now,
    };
    tx.insert_product(organization_id, &product).await?;
    Ok(product)
}

/// One product of the organization.
#[tracing::instrument(skip_all)]
pub async fn get_product(
    db: &Db,
    organization_id: &OrganizationId,
    product_id: &ProductId,
) -> Result<Product, ApiError> {
    db.find_product(organization_id, product_id)
        .await?
        .ok_or_else(|| product_not_found(product_id.as_str()))
}

/// A page of the organization's products, newest first.
#[tracing::instrument(skip_all)]
pub async fn list_products(
    db: &Db,
    organization_id: &OrganizationId,
    limit: i64,
    offset: i64,
) -> Result<ProductPage, ApiError> {
    // One snapshot, so that `Pagination-Total` counts the products the page comes from.
    let page =
        db.read(async |snapshot| (snapshot.list_products(organization_id, limit, offset)).await);
    Ok(page.await?)
}

/// The products the items name, by id, for `?expand=product`; one query for all of them.
#[tracing::instrument(skip_all)]
pub async fn products_of_items(
    db: &Db,
    organization_id: &OrganizationId,
    items: &[InvoiceItem],
) -> Result<HashMap<ProductId, Product>, ApiError> {
    let mut ids: Vec<ProductId> = items
        .iter()
        .filter_map(|item| item.product_id.clone())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let products = db.find_products(organization_id, &ids).await?;
    Ok(products
        .into_iter()
        .map(|product| (product.id.clone(), product))
        .collect())
}

/// The 404 for a product the organization does not have.
pub fn product_not_found(product_id: &str) -> ApiError {
    ApiError::not_found(Resource::Product, product_id)
}
