//! Documents: an invoice or a credit memo rendered as a PDF, in process, from the same figures
//! its JSON shows, both drawn by one [`sheet::Sheet`]. No dialect's names appear here; an edge
//! decides when a client asked for a document.

pub mod credit_memo;
pub mod facturx;
mod format;
pub mod hosted_page;
mod invoice;
mod layout;
mod sheet;

pub use invoice::{InvoiceDocument, render};

#[cfg(test)]
pub(crate) mod tests;
