//! Documents: an invoice rendered as a PDF, in process, from the same figures its JSON shows.
//! No dialect's names appear here; an edge decides when a client asked for a document.

mod format;
mod invoice;
mod layout;

pub use invoice::{InvoiceDocument, render};
