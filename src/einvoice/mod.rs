//! Legal e-invoices: an issued invoice or a credit memo as EN 16931 structured data, written in
//! UBL 2.1 (Peppol BIS Billing 3.0 where both parties have electronic addresses).

pub mod cii;
mod lines;
pub mod model;
pub mod of_invoice;
mod parties;
pub mod refusal;
pub mod ubl;
mod xml;

#[cfg(test)]
pub(crate) mod tests;
