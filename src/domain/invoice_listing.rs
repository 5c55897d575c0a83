//! Which invoices a list shows, and in which order: the core's terms, which each edge reads
//! from its own query syntax.

use super::currency::Currency;
use super::ids::CustomerId;
use super::invoice::InvoiceStatus;

/// Which invoices a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceFilter {
    /// Only these statuses, when given.
    pub statuses: Option<Vec<InvoiceStatus>>,
    /// Only these customers' invoices, when given.
    pub customer_ids: Option<Vec<CustomerId>>,
    /// Only invoices in these currencies, when given.
    pub currencies: Option<Vec<Currency>>,
}

/// A field a list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    /// When the invoice was created.
    CreatedTime,
    /// Its amount.
    Amount,
}

/// One sort key: a field and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    /// The field.
    pub field: SortField,
    /// Largest first.
    pub descending: bool,
}

impl SortKey {
    /// The default order: newest first.
    pub const NEWEST_FIRST: Self = Self {
        field: SortField::CreatedTime,
        descending: true,
    };
}
