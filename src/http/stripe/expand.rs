//! `expand[]`: ids in an answer shown as their objects. An item's `invoice` expands to the
//! invoice with its first lines; an invoice line's `invoice_item` (on an invoice, each of its
//! `lines.data.invoice_item`) to the item as `GET /v1/invoiceitems/{id}` shows it. The paths
//! that name what is always empty or null here (`discounts`, `test_clock`, ...) expand to
//! themselves. Nothing else expands: customers are not objects here, nor are the other ids an
//! answer holds; each such path is refused, naming it. This is the one list of what expands
//! for which answer, which the contract describes too.

use super::error::Bad;
use super::invoice_object::ITEMS_TO_READ;
use super::param_schemas::MAX_EXPANSIONS;
use super::params::Reader;

/// What an answer expands.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Expansions {
    /// An item's `invoice`: the invoice object in place of its id.
    pub invoice: bool,
    /// An invoice line's `invoice_item`: the item object in place of its id.
    pub invoice_item: bool,
}

impl Expansions {
    /// With an item's `invoice` expanded, how many of each invoice's newest items to read with
    /// it.
    pub fn invoices(self) -> Option<i64> {
        self.invoice.then_some(ITEMS_TO_READ)
    }

    /// Reads `expand` for the answer `on`, refusing in `reader` each path it cannot expand.
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
        let known = on.paths();
        for path in paths {
            let expansion = known
                .iter()
                .find(|(known, _)| *known == path)
                .map(|(_, expansion)| *expansion);
            match expansion {
                Some(Expansion::Invoice) => expansions.invoice = true,
                Some(Expansion::InvoiceItem) => expansions.invoice_item = true,
                Some(Expansion::Itself) => {}
                None => refuse(reader, &path),
            }
        }
        expansions
    }
}

/// The answer an `expand` path starts at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// One item.
    Item,
    /// A list of items: each path starts at `data.`.
    ItemList,
    /// One invoice.
    Invoice,
    /// A list of invoices: each path starts at `data.`.
    InvoiceList,
    /// A list of an invoice's lines: each path starts at `data.`.
    LineList,
}

impl Subject {
    /// The object a path names a field of, and what the path starts with before it.
    fn start(self) -> (Object, &'static str) {
        match self {
            Self::Item => (Object::Item, ""),
            Self::ItemList => (Object::Item, LIST),
            Self::Invoice => (Object::Invoice, ""),
            Self::InvoiceList => (Object::Invoice, LIST),
            Self::LineList => (Object::Line, LIST),
        }
    }

    /// Every path that expands on this answer, with what it expands to.
    fn paths(self) -> Vec<(String, Expansion)> {
        let (object, prefix) = self.start();
        prefixed(prefix, object.paths())
    }

    /// The paths that expand on this answer, as the contract describes them: those that show
    /// an object, and those that expand to themselves.
    pub fn described(self) -> (Vec<String>, Vec<String>) {
        let (shown, itself): (Vec<_>, Vec<_>) = self
            .paths()
            .into_iter()
            .partition(|(_, expansion)| *expansion != Expansion::Itself);
        let names =
            |paths: Vec<(String, Expansion)>| paths.into_iter().map(|(path, _)| path).collect();
        (names(shown), names(itself))
    }
}

/// `paths`, each after `prefix`.
fn prefixed(prefix: &str, paths: Vec<(String, Expansion)>) -> Vec<(String, Expansion)> {
    paths
        .into_iter()
        .map(|(path, expansion)| (format!("{prefix}{path}"), expansion))
        .collect()
}

/// Where a list's paths start: at each of its objects.
const LIST: &str = "data.";

/// Where an invoice's paths into its lines start: at each line.
const LINES: &str = "lines.data.";

/// An object whose fields a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Object {
    Item,
    Invoice,
    Line,
}

/// What a path expands to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expansion {
    /// An item's invoice.
    Invoice,
    /// A line's item.
    InvoiceItem,
    /// The same value: what the path names is always empty or null here.
    Itself,
}

impl Object {
    /// The field that shows an object when expanded, and what it expands to.
    fn shown(self) -> Option<(&'static str, Expansion)> {
        match self {
            Self::Item => Some(("invoice", Expansion::Invoice)),
            Self::Line => Some(("invoice_item", Expansion::InvoiceItem)),
            Self::Invoice => None,
        }
    }

    /// The paths Stripe's object of the 2024-06-20 version expands that are always empty or
    /// null here (no coupons, tax rate objects, subscriptions, payments, test clocks or
    /// Connect accounts).
    fn always_empty(self) -> &'static [&'static str] {
        match self {
            Self::Item => &["discounts", "test_clock"],
            Self::Line => &[
                "discount_amounts.discount",
                "discounts",
                "plan.product",
                "subscription_item",
                "tax_amounts.tax_rate",
            ],
            Self::Invoice => &[
                "account_tax_ids",
                "application",
                "charge",
                "default_payment_method",
                "default_source",
                "discounts",
                "from_invoice.invoice",
                "latest_revision",
                "on_behalf_of",
                "payment_intent",
                "quote",
                "shipping_cost.shipping_rate",
                "subscription",
                "test_clock",
                "total_discount_amounts.discount",
                "total_tax_amounts.tax_rate",
                "transfer_data.destination",
            ],
        }
    }

    /// The objects inside this one, and the path that leads to each.
    fn inner(self) -> Option<(&'static str, Object)> {
        match self {
            Self::Invoice => Some((LINES, Self::Line)),
            Self::Item | Self::Line => None,
        }
    }

    /// Every path from this object that expands, with what it expands to.
    fn paths(self) -> Vec<(String, Expansion)> {
        let mut paths: Vec<(String, Expansion)> = self
            .shown()
            .map(|(field, expansion)| (field.to_owned(), expansion))
            .into_iter()
            .chain(
                self.always_empty()
                    .iter()
                    .map(|path| ((*path).to_owned(), Expansion::Itself)),
            )
            .collect();
        if let Some((prefix, inner)) = self.inner() {
            paths.extend(prefixed(prefix, inner.paths()));
        }
        paths
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::stripe::params::{StripeParams, parse_pairs};

    fn reads(query: &str, on: Subject) -> (Expansions, bool) {
        let params = parse_pairs(query.as_bytes()).unwrap();
        let mut reader = Reader::new(StripeParams::from_texts(params));
        let expansions = Expansions::read(&mut reader, on);
        (expansions, reader.finish().is_ok())
    }

    #[test]
    fn each_answer_expands_its_own_paths_and_refuses_the_rest() {
        let nothing = Expansions::default();
        let invoice = Expansions {
            invoice: true,
            ..nothing
        };
        let item = Expansions {
            invoice_item: true,
            ..nothing
        };
        let both_ways = "expand[]=lines.data.discount_amounts.discount&expand[]=test_clock";
        for (query, on, expected) in [
            ("expand[]=invoice", Subject::Item, Some(invoice)),
            ("expand[]=data.invoice", Subject::ItemList, Some(invoice)),
            (
                "expand[]=lines.data.invoice_item",
                Subject::Invoice,
                Some(item),
            ),
            (
                "expand[]=data.lines.data.invoice_item",
                Subject::InvoiceList,
                Some(item),
            ),
            ("expand[]=data.invoice_item", Subject::LineList, Some(item)),
            (both_ways, Subject::Invoice, Some(nothing)),
            ("expand[]=data.discounts", Subject::LineList, Some(nothing)),
            ("expand[]=invoice_item", Subject::Invoice, None),
            ("expand[]=lines.data.invoice", Subject::Invoice, None),
            ("expand[]=lines", Subject::Invoice, None),
            (
                "expand[]=lines.data.invoice_item",
                Subject::InvoiceList,
                None,
            ),
            ("expand[]=invoice", Subject::Invoice, None),
            ("expand[]=customer", Subject::Invoice, None),
            (
                "expand[]=data.lines.data.subscription",
                Subject::InvoiceList,
                None,
            ),
        ] {
            let (expansions, accepted) = reads(query, on);
            assert_eq!(
                accepted.then_some(expansions),
                expected,
                "{query} on {on:?}"
            );
        }
    }

    #[test]
    fn the_contract_lists_the_paths_the_reader_takes() {
        for on in [
            Subject::Item,
            Subject::ItemList,
            Subject::Invoice,
            Subject::InvoiceList,
            Subject::LineList,
        ] {
            let (shown, itself) = on.described();
            for path in shown.iter().chain(&itself) {
                assert!(reads(&format!("expand[]={path}"), on).1, "{path} on {on:?}");
            }
        }
        assert_eq!(
            Subject::InvoiceList.described().0,
            ["data.lines.data.invoice_item"]
        );
    }
}
