//! A Stripe-style credit note's parameters on `POST /v1/credit_notes` and
//! `GET /v1/credit_notes/preview`, read from either encoding (or the query string) into the
//! core's input for a credit memo once the credited invoice's currency is known.

use rust_decimal::Decimal;

use super::error::{Bad, StripeError};
use super::item_params::new_metadata;
use super::params::Reader;
use crate::domain::credit_memo::{
    CreditLineInput, CreditMemoInput, CreditReason, CreditSettlement,
};
use crate::domain::currency::Currency;
use crate::domain::ids::{InvoiceId, InvoiceItemId};
use crate::domain::invoice_item::{Description, Quantity, UnitPrice};
use crate::domain::metadata::Metadata;

/// The most lines a note may have (each `lines[i]`, `i` below it).
pub const MAX_LINES: usize = 100;

/// What the line of a note made from `amount` alone says it credits.
const AMOUNT_LINE_DESCRIPTION: &str = "Credit";

/// Parameters of Stripe's credit note that this server does not implement: refused by name,
/// never dropped. It records credit and never moves money nor keeps a customer balance, so
/// refunds and balance credit have no place; Stripe's shipping credit names a shipping rate,
/// which this server has none of; and a note is in effect when it is issued.
const UNSUPPORTED: [&str; 9] = [
    "credit_amount",
    "effective_at",
    "email_type",
    "expand",
    "refund",
    "refund_amount",
    "refunds",
    "shipping_cost",
    "customer_account",
];

/// Parameters of Stripe's credit note line that this server does not implement.
const UNSUPPORTED_LINE: [&str; 6] = [
    "amount",
    "discount_amounts",
    "metadata",
    "tax_amounts",
    "tax_rates",
    "unit_amount_decimal",
];

/// Stripe's reasons, as it spells them.
const REASONS: [(&str, CreditReason); 4] = [
    ("duplicate", CreditReason::Duplicate),
    ("fraudulent", CreditReason::Fraudulent),
    ("order_change", CreditReason::OrderChange),
    (
        "product_unsatisfactory",
        CreditReason::ProductUnsatisfactory,
    ),
];

/// A reason in Stripe's words, when it is one of Stripe's four.
pub fn reason_name(reason: CreditReason) -> Option<&'static str> {
    REASONS
        .iter()
        .find(|(_, known)| *known == reason)
        .map(|(name, _)| *name)
}

/// What a line credits: an item of the invoice, or what its description says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineType {
    InvoiceLineItem,
    CustomLineItem,
}

/// One line, read; its unit amount still in minor units.
#[derive(Debug)]
struct LineParams {
    index: usize,
    item: Option<InvoiceItemId>,
    description: Option<Description>,
    quantity: Option<Quantity>,
    unit_amount: Option<i64>,
}

/// The parameters of a note, each read and checked (the bad ones named in the reader).
#[derive(Debug)]
pub struct CreditNoteParams {
    invoice: Option<InvoiceId>,
    amount: Option<i64>,
    lines: Vec<LineParams>,
    reason: Option<CreditReason>,
    memo: Option<Description>,
    metadata: Metadata,
    out_of_band_amount: Option<i64>,
}

/// What a note's parameters make: the core's input, and the total `amount` said the note
/// comes to, which the priced memo must match.
#[derive(Debug)]
pub struct CreditNoteRequest {
    /// The memo to issue.
    pub input: CreditMemoInput,
    /// `amount`, when given with lines: the memo's total must be it.
    pub agreed_total: Option<Decimal>,
    /// The parameter that says what the note comes to: `amount` when given, else `lines`.
    pub total_param: &'static str,
}

impl CreditNoteParams {
    /// Reads every parameter of a create or a preview, naming each bad one in `reader`.
    pub fn read(reader: &mut Reader) -> Self {
        reader.refuse_unsupported(&UNSUPPORTED);
        let invoice = reader.required("invoice", InvoiceId::parse);
        if !reader.has("amount") && !reader.has("lines") {
            reader.reject(Bad::coded(
                "lines",
                "parameter_missing",
                "is required without amount",
            ));
        }
        let amount = reader.integer("amount");
        if amount.is_some_and(|amount| amount <= 0) {
            reader.reject_key("amount", "must be greater than 0");
        }
        let lines = read_lines(reader);
        let reason = reader.text("reason").and_then(|text| {
            let found = REASONS.iter().find(|(name, _)| *name == text);
            if found.is_none() {
                reader.reject_key(
                    "reason",
                    "must be one of duplicate, fraudulent, order_change, product_unsatisfactory",
                );
            }
            found.map(|(_, reason)| *reason)
        });
        let memo = reader
            .text("memo")
            .filter(|text| !text.is_empty())
            .and_then(|text| {
                Description::parse(text)
                    .map_err(|message| reader.reject_key("memo", message))
                    .ok()
            });
        let metadata = new_metadata(reader);
        let out_of_band_amount = reader.integer("out_of_band_amount");
        if out_of_band_amount.is_some_and(|amount| amount < 0) {
            reader.reject_key("out_of_band_amount", "must be at least 0");
        }
        Self {
            invoice,
            amount,
            lines,
            reason,
            memo,
            metadata,
            out_of_band_amount,
        }
    }

    /// The invoice credited; `None` only when it was named bad (and the reader said so).
    pub fn invoice(&self) -> Option<&InvoiceId> {
        self.invoice.as_ref()
    }

    /// The core's input in the credited invoice's `currency`, called once every parameter
    /// was read without fault: amounts in minor units become the currency's amounts, and a
    /// note of `amount` alone is one line of that amount.
    pub fn request(self, currency: Currency) -> Result<CreditNoteRequest, StripeError> {
        let Some(invoice_id) = self.invoice else {
            return Err(StripeError::Params(Vec::new()));
        };
        let major = |minor_units: i64| currency.amount_of_minor_units(minor_units);
        // With lines, `amount` only says what they come to; alone, it is the one line.
        let agreed_total = self.amount.filter(|_| !self.lines.is_empty()).map(major);
        let mut bad = Vec::new();
        let unit_price = |param: String, minor_units: i64, bad: &mut Vec<Bad>| {
            UnitPrice::parse(major(minor_units))
                .map_err(|message| {
                    bad.push(Bad::invalid(&param, format!("{message} in major units")))
                })
                .ok()
        };
        let lines: Vec<CreditLineInput> = if self.lines.is_empty() {
            let amount = self.amount.unwrap_or_default();
            let description = Description::parse(AMOUNT_LINE_DESCRIPTION.to_owned()).ok();
            vec![CreditLineInput {
                invoice_item_id: None,
                description,
                unit_price: unit_price("amount".to_owned(), amount, &mut bad),
                quantity: None,
            }]
        } else {
            self.lines
                .into_iter()
                .map(|line| CreditLineInput {
                    unit_price: line.unit_amount.and_then(|minor_units| {
                        let param = format!("lines[{}][unit_amount]", line.index);
                        unit_price(param, minor_units, &mut bad)
                    }),
                    invoice_item_id: line.item,
                    description: line.description,
                    quantity: line.quantity,
                })
                .collect()
        };
        StripeError::unless_bad(bad)?;
        let input = CreditMemoInput {
            invoice_id,
            customer_id: None,
            // Named, so that the core refuses the note if the invoice's currency changed
            // since the amounts were read in it.
            currency: Some(currency),
            lines,
            shipping_amount: Decimal::ZERO,
            reason: self.reason,
            description: self.memo,
            metadata: self.metadata,
            allocations: Vec::new(),
            settlement: CreditSettlement::OnTheInvoice {
                out_of_band: self.out_of_band_amount.map(major),
            },
        };
        Ok(CreditNoteRequest {
            input,
            agreed_total,
            total_param: if self.amount.is_some() {
                "amount"
            } else {
                "lines"
            },
        })
    }
}

/// `lines[i][...]`, by index in the indexes' order (a form's `lines[0][type]=...`, or in
/// JSON an object keyed by index, as the form decodes).
fn read_lines(reader: &mut Reader) -> Vec<LineParams> {
    let mut list = match reader.object("lines") {
        Some(Some(list)) => list,
        Some(None) | None => return Vec::new(),
    };
    let mut lines = Vec::new();
    for index in 0..MAX_LINES {
        let key = index.to_string();
        if !list.has(&key) {
            continue;
        }
        match list.object(&key) {
            Some(Some(mut line)) => {
                if let Some(read) = read_line(&mut line, index) {
                    lines.push(read);
                }
                list.adopt(line);
            }
            _ => list.reject_key(&key, "must be an object (lines[i][key]=value)"),
        }
    }
    // What is left is not an index below the limit: unknown, named by the reader.
    reader.adopt(list);
    lines
}

fn read_line(line: &mut Reader, index: usize) -> Option<LineParams> {
    line.refuse_unsupported(&UNSUPPORTED_LINE);
    let kind = match line.text("type").as_deref() {
        Some("invoice_line_item") => Some(LineType::InvoiceLineItem),
        Some("custom_line_item") => Some(LineType::CustomLineItem),
        Some(_) => {
            line.reject_key("type", "must be invoice_line_item or custom_line_item");
            None
        }
        None => {
            let name = line.name("type");
            line.reject(Bad::missing(&name));
            None
        }
    };
    let item = line.text("invoice_line_item").and_then(|text| {
        InvoiceItemId::parse(&text)
            .map_err(|error| line.reject_key("invoice_line_item", error.to_string()))
            .ok()
    });
    let quantity = line.integer("quantity").and_then(|quantity| {
        Quantity::parse(quantity)
            .ok()
            .filter(|quantity| quantity.get() > 0)
            .or_else(|| {
                line.reject_key("quantity", "must be between 1 and 1000000000");
                None
            })
    });
    let unit_amount = line.integer("unit_amount");
    if unit_amount.is_some_and(|amount| amount < 0) {
        line.reject_key("unit_amount", "must be at least 0");
    }
    let description = line
        .text("description")
        .filter(|text| !text.is_empty())
        .and_then(|text| {
            Description::parse(text)
                .map_err(|message| line.reject_key("description", message))
                .ok()
        });
    match kind? {
        LineType::InvoiceLineItem if item.is_none() => {
            if !line.has_bad() {
                let name = line.name("invoice_line_item");
                line.reject(Bad::missing(&name));
            }
            None
        }
        LineType::CustomLineItem if item.is_some() => {
            line.reject_key(
                "invoice_line_item",
                "must be left out of a custom_line_item line",
            );
            None
        }
        LineType::CustomLineItem if unit_amount.is_none() || description.is_none() => {
            for (key, given) in [
                ("unit_amount", unit_amount.is_some()),
                ("description", description.is_some()),
            ] {
                if !given {
                    let name = line.name(key);
                    line.reject(Bad::missing(&name));
                }
            }
            None
        }
        _ => Some(LineParams {
            index,
            item,
            description,
            quantity,
            unit_amount,
        }),
    }
}

/// The parameters as the contract describes them, beside the reader above: the descriptions
/// and limits a person or a generator reads.
#[expect(
    dead_code,
    reason = "their fields are read by the schema derives alone"
)]
mod contract {
    use std::collections::HashMap;

    use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
    use utoipa::{IntoParams, PartialSchema, ToSchema};

    use super::MAX_LINES;
    use crate::http::stripe::param_schemas::metadata;

    /// `lines[i][...]`: a line of a note.
    #[derive(ToSchema)]
    #[schema(as = StripeCreditNoteLineParams)]
    pub struct CreditNoteLineParams {
        /// `invoice_line_item` credits an item of the invoice (at its price, with its share
        /// of discount and tax, by default); `custom_line_item` credits what its description
        /// says.
        #[schema(pattern = "^(invoice_line_item|custom_line_item)$")]
        #[schema(rename = "type")]
        kind: String,
        /// The item credited (`ii_...`, a line of the invoice): with `invoice_line_item` only.
        #[schema(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
        invoice_line_item: String,
        /// Units credited, 1 to 1000000000: by default the item's quantity, or 1.
        #[schema(required = false, minimum = 1, maximum = 1_000_000_000)]
        quantity: i64,
        /// Minor units per unit, at least 0: by default the item's; required with
        /// `custom_line_item`.
        #[schema(required = false, minimum = 0)]
        unit_amount: i64,
        /// What the line credits, at most 1000 characters: required with `custom_line_item`.
        #[schema(required = false, max_length = 1000)]
        description: String,
    }

    /// `lines`: by index (`lines[0][type]=...`), in JSON as an object keyed by index, as the
    /// form decodes.
    pub fn lines() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .max_properties(Some(MAX_LINES))
            .property_names(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^(0|[1-9][0-9]?)$")),
            ))
            .additional_properties(Some(CreditNoteLineParams::schema()))
            .build()
    }

    /// `POST /v1/credit_notes`: a note on a finalized invoice, of `lines`, or of `amount`
    /// alone (one line described "Credit"); with both, `amount` must be what the lines come
    /// to. Taken off what the invoice has left due while it is open; on a paid invoice, all
    /// of it is recorded as given back out of band.
    #[derive(ToSchema)]
    #[schema(as = StripeCreditNoteCreate)]
    pub struct CreditNoteCreateParams {
        /// The invoice credited: finalized, not void.
        #[schema(pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
        invoice: String,
        /// The note's total in minor units, greater than 0.
        #[schema(required = false, minimum = 1)]
        amount: i64,
        /// The note's lines, at most 100.
        #[schema(required = false, schema_with = lines)]
        lines: HashMap<String, CreditNoteLineParams>,
        /// `duplicate`, `fraudulent`, `order_change` or `product_unsatisfactory`.
        #[schema(
            required = false,
            pattern = "^(duplicate|fraudulent|order_change|product_unsatisfactory)$"
        )]
        reason: String,
        /// Words for the customer, at most 1000 characters.
        #[schema(required = false, max_length = 1000)]
        memo: String,
        /// Up to 50 keys of up to 40 characters, values of up to 500 characters.
        #[schema(required = false, schema_with = metadata)]
        metadata: Option<HashMap<String, String>>,
        /// Minor units given back outside this server: 0 on an open invoice, the note's total
        /// on a paid one (the default either way).
        #[schema(required = false, minimum = 0)]
        out_of_band_amount: i64,
    }

    /// `GET /v1/credit_notes/preview`: the parameters of a create, in the query string.
    #[derive(IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct CreditNotePreviewQuery {
        /// The invoice credited: finalized, not void.
        #[param(pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
        invoice: String,
        /// The note's total in minor units, greater than 0.
        #[param(required = false, minimum = 1)]
        amount: i64,
        /// The note's lines, at most 100, by index (`lines[0][type]=custom_line_item`).
        #[param(required = false, style = DeepObject, explode, schema_with = lines)]
        lines: HashMap<String, CreditNoteLineParams>,
        /// `duplicate`, `fraudulent`, `order_change` or `product_unsatisfactory`.
        #[param(
            required = false,
            pattern = "^(duplicate|fraudulent|order_change|product_unsatisfactory)$"
        )]
        reason: String,
        /// Words for the customer, at most 1000 characters.
        #[param(required = false, max_length = 1000)]
        memo: String,
        /// Up to 50 keys of up to 40 characters, values of up to 500 characters.
        #[param(required = false, style = DeepObject, explode, schema_with = metadata)]
        metadata: HashMap<String, String>,
        /// Minor units given back outside this server: 0 on an open invoice, the note's total
        /// on a paid one.
        #[param(required = false, minimum = 0)]
        out_of_band_amount: i64,
    }

    /// `GET /v1/credit_notes`'s filters.
    #[derive(IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct CreditNoteListQuery {
        /// One invoice's notes.
        #[param(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
        invoice: String,
        /// One customer's notes.
        #[param(required = false, pattern = "^[A-Za-z0-9_@~.-]{1,50}$")]
        customer: String,
    }
}

pub use self::contract::{CreditNoteCreateParams, CreditNoteListQuery, CreditNotePreviewQuery};
