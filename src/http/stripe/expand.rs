//! `expand[]`: ids in an answer shown as their objects. An item's `invoice` expands to the
//! invoice with its first lines. Its `discounts` and `test_clock`, always empty here, expand to
//! themselves. Nothing else expands: customers are not objects here, and an invoice has no id
//! in it to expand; each such path is refused, naming it.

use super::error::Bad;
use super::invoice_object::ITEMS_TO_READ;
use super::param_schemas::MAX_EXPANSIONS;
use super::params::Reader;

/// What an item's answer expands.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ItemExpansions {
    /// `invoice`: the invoice object in place of its id.
    pub invoice: bool,
}

impl ItemExpansions {
    /// With `invoice` expanded, how many of each invoice's newest items to read with it.
    pub fn invoices(self) -> Option<i64> {
        self.invoice.then_some(ITEMS_TO_READ)
    }

    /// Reads `expand` for one item (`invoice`) or for a list of them (`data.invoice`).
    pub fn read(reader: &mut Reader, on: Subject) -> Self {
        let mut expansions = Self::default();
        let paths = reader.texts("expand");
        if paths.len() > MAX_EXPANSIONS {
            reader.reject(Bad::invalid(
                "expand",
                format!("must name at most {MAX_EXPANSIONS} paths"),
            ));
            return expansions;
        }
        for path in paths {
            let on_item = match on {
                Subject::Item => Some(path.as_str()),
                Subject::ItemList => path.strip_prefix("data."),
            };
            match on_item {
                Some("invoice") => expansions.invoice = true,
                Some("discounts" | "test_clock") => {}
                _ => refuse(reader, &path),
            }
        }
        expansions
    }
}

/// Where an `expand` path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// One item's answer.
    Item,
    /// A list's answer: each path starts at `data.`.
    ItemList,
}

/// Refuses every `expand` path: an answer with nothing to expand.
pub fn refuse_all(reader: &mut Reader) {
    for path in reader.texts("expand") {
        refuse(reader, &path);
    }
}

fn refuse(reader: &mut Reader, path: &str) {
    let message = if path.rsplit('.').next() == Some("customer") {
        format!("cannot expand {path}: customers are ids here, not objects")
    } else {
        format!("this property cannot be expanded ({path})")
    };
    reader.reject(Bad::invalid("expand", message));
}
