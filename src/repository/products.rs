//! Products.

use super::{Db, Tx};
use crate::domain::ids::{OrganizationId, ProductId};
use crate::domain::product::Product;

/// One page of an organization's products.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductPage {
    /// How many products the organization has in all.
    pub total: i64,
    /// The products of the page, newest first.
    pub products: Vec<Product>,
}

impl Db {
    /// The product, if the organization has one of that id.
    #[tracing::instrument(skip_all, fields(product = %product_id))]
    pub async fn find_product(
        &self,
        organization_id: &OrganizationId,
        product_id: &ProductId,
    ) -> Result<Option<Product>, sqlx::Error> {
        self.on_connection(async |connection| {
            sqlx::query_as!(
                Product,
                r#"select id as "id: ProductId", name, description, unit_label,
                   created_time, updated_time
               from products where organization_id = $1 and id = $2"#,
                organization_id as &OrganizationId,
                product_id as &ProductId,
            )
            .fetch_optional(connection)
            .await
        })
        .await
    }

    /// Those of the products named that the organization has, in one query (to expand the
    /// products of many items at once); unknown ids are left out, the order is unspecified.
    #[tracing::instrument(skip_all, fields(count = product_ids.len()))]
    pub async fn find_products(
        &self,
        organization_id: &OrganizationId,
        product_ids: &[ProductId],
    ) -> Result<Vec<Product>, sqlx::Error> {
        if product_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = product_ids.iter().map(ProductId::as_str).collect();
        self.on_connection(async |connection| {
            sqlx::query_as!(
                Product,
                r#"select id as "id: ProductId", name, description, unit_label,
                   created_time, updated_time
               from products where organization_id = $1 and id = any($2)"#,
                organization_id as &OrganizationId,
                &ids as &[&str],
            )
            .fetch_all(connection)
            .await
        })
        .await
    }
}

impl Tx {
    /// Stores a new product, and its organization if it has no row yet.
    #[tracing::instrument(skip_all, fields(product = %product.id))]
    pub async fn insert_product(
        &mut self,
        organization_id: &OrganizationId,
        product: &Product,
    ) -> Result<(), sqlx::Error> {
        // A bearer token's organization may have no row yet (only keys create one), and the
        // product's foreign key needs it.
        sqlx::query!(
            "with organization as (
                 insert into organizations (id) values ($1) on conflict (id) do nothing
             )
             insert into products (organization_id, id, name, description, unit_label,
                 created_time, updated_time)
             values ($1, $2, $3, $4, $5, $6, $7)",
            organization_id as &OrganizationId,
            &product.id as &ProductId,
            product.name,
            product.description.as_deref(),
            product.unit_label.as_deref(),
            product.created_time,
            product.updated_time,
        )
        .execute(&mut *self.inner)
        .await
        .map(drop)
    }

    /// A page of the organization's products, newest first, then by id descending, with how
    /// many there are in all. Run in a snapshot, the total counts the products the page is
    /// taken from.
    #[tracing::instrument(skip_all)]
    pub async fn list_products(
        &mut self,
        organization_id: &OrganizationId,
        limit: i64,
        offset: i64,
    ) -> Result<ProductPage, sqlx::Error> {
        let total = sqlx::query_scalar!(
            r#"select count(*) as "total!" from products where organization_id = $1"#,
            organization_id as &OrganizationId,
        )
        .fetch_one(&mut *self.inner)
        .await?;
        let products = sqlx::query_as!(
            Product,
            r#"select id as "id: ProductId", name, description, unit_label,
                   created_time, updated_time
               from products where organization_id = $1
               order by created_time desc, id desc
               limit $2 offset $3"#,
            organization_id as &OrganizationId,
            limit,
            offset,
        )
        .fetch_all(&mut *self.inner)
        .await?;
        Ok(ProductPage { total, products })
    }

    /// Whether the organization has a product of that id.
    #[tracing::instrument(skip_all, fields(product = %product_id))]
    pub async fn product_exists(
        &mut self,
        organization_id: &OrganizationId,
        product_id: &ProductId,
    ) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar!(
            r#"select exists (select 1 from products where organization_id = $1 and id = $2)
                   as "exists!""#,
            organization_id as &OrganizationId,
            product_id as &ProductId,
        )
        .fetch_one(&mut *self.inner)
        .await
    }

    /// Which of `product_ids` name products of the organization.
    pub async fn existing_products(
        &mut self,
        organization_id: &OrganizationId,
        product_ids: &[String],
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar!(
            "select id from products where organization_id = $1 and id = any($2)",
            organization_id as &OrganizationId,
            product_ids,
        )
        .fetch_all(&mut *self.inner)
        .await
    }
}
