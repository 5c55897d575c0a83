//! Taxes on the wire: an item's tax as Rebilly's `TaxItem`, an invoice's `tax` with its
//! calculator, and the parsing of the invoice's tax settings.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::fields::{FieldReader, number, string};
use super::openapi::schema::one_of;
use super::openapi::schema::{self, any_of, closed_object, null, nullable, read_only, text};
use crate::domain::money;
use crate::domain::tax::MAX_RATE_PLACES;
use crate::domain::tax::{
    ComputedTax, ItemTax, JurisdictionName, Jurisdictions, TaxRate, TaxRates, TaxSettings,
};
use crate::domain::vat_totals::VatTotal;

/// The calculators a request may name.
const CALCULATORS: &str = "must be one of: manual, rates, vat";

/// An item's tax as Rebilly's TaxItem; a manual tax has no rates, components or
/// jurisdictions (all null).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TaxItem)]
pub struct TaxResponse {
    #[serde(serialize_with = "money::serialize")]
    amount: Decimal,
    description: String,
    #[serde(serialize_with = "money::serialize_option")]
    rate: Option<Decimal>,
    #[serde(serialize_with = "money::serialize_option")]
    state_amount: Option<Decimal>,
    #[serde(serialize_with = "money::serialize_option")]
    county_amount: Option<Decimal>,
    #[serde(serialize_with = "money::serialize_option")]
    city_amount: Option<Decimal>,
    #[serde(serialize_with = "money::serialize_option")]
    special_district_amount: Option<Decimal>,
    #[serde(serialize_with = "money::serialize_option")]
    state_rate: Option<Decimal>,
    #[serde(serialize_with = "money::serialize_option")]
    county_rate: Option<Decimal>,
    #[serde(serialize_with = "money::serialize_option")]
    city_rate: Option<Decimal>,
    #[serde(serialize_with = "money::serialize_option")]
    special_district_rate: Option<Decimal>,
    jurisdictions: Option<JurisdictionsResponse>,
}

impl TaxResponse {
    /// The wire form of an item's tax.
    pub fn new(tax: &ItemTax) -> Self {
        let manual = Self {
            amount: tax.amount(),
            description: tax.description().to_owned(),
            rate: None,
            state_amount: None,
            county_amount: None,
            city_amount: None,
            special_district_amount: None,
            state_rate: None,
            county_rate: None,
            city_rate: None,
            special_district_rate: None,
            jurisdictions: None,
        };
        match tax {
            ItemTax::Manual(_) => manual,
            ItemTax::Computed(computed) => Self::computed(manual, computed),
            ItemTax::Vat(share) => Self {
                rate: Some(share.rate),
                ..manual
            },
        }
    }

    fn computed(base: Self, tax: &ComputedTax) -> Self {
        Self {
            rate: Some(tax.rate),
            state_amount: Some(tax.state.amount),
            county_amount: Some(tax.county.amount),
            city_amount: Some(tax.city.amount),
            special_district_amount: Some(tax.special_district.amount),
            state_rate: Some(tax.state.rate),
            county_rate: Some(tax.county.rate),
            city_rate: Some(tax.city.rate),
            special_district_rate: Some(tax.special_district.rate),
            jurisdictions: tax.jurisdictions.as_ref().map(JurisdictionsResponse::new),
            ..base
        }
    }
}

/// Jurisdiction names as Rebilly's TaxItem shows them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Jurisdictions)]
pub struct JurisdictionsResponse {
    country: Option<String>,
    state: Option<String>,
    county: Option<String>,
    city: Option<String>,
}

impl JurisdictionsResponse {
    fn new(jurisdictions: &Jurisdictions) -> Self {
        let text = |name: &Option<JurisdictionName>| name.as_ref().map(|n| n.as_str().to_owned());
        Self {
            country: text(&jurisdictions.country),
            state: text(&jurisdictions.state),
            county: text(&jurisdictions.county),
            city: text(&jurisdictions.city),
        }
    }
}

/// An invoice's `tax`: its calculator and the sum of its item taxes, and under `rates` the
/// rates and jurisdictions it applies.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceTaxResponse {
    calculator: &'static str,
    #[serde(serialize_with = "money::serialize")]
    amount: Decimal,
    #[serde(flatten)]
    rates: Option<RatesResponse>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "money::serialize_option"
    )]
    rate: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    breakdown: Option<Vec<VatTotalResponse>>,
}

/// One category and rate of an invoice's VAT.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VatBreakdown)]
struct VatTotalResponse {
    /// The VAT category (UNCL 5305): `S` standard, `Z` zero-rated, ...
    category: &'static str,
    /// The rate, a fraction.
    #[serde(serialize_with = "money::serialize")]
    #[schema(value_type = f64)]
    rate: Decimal,
    /// The items' amounts after discounts, credits taken off.
    #[serde(serialize_with = "money::serialize")]
    #[schema(value_type = f64)]
    taxable_amount: Decimal,
    /// The VAT: the taxable amount times the rate, rounded once.
    #[serde(serialize_with = "money::serialize")]
    #[schema(value_type = f64)]
    amount: Decimal,
}

impl ToSchema for InvoiceTaxResponse {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("InvoiceTax")
    }
}

impl PartialSchema for InvoiceTaxResponse {
    /// One shape per calculator: `rates` adds its rates and jurisdictions.
    fn schema() -> RefOr<Schema> {
        let amount = || {
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .description(Some("The sum of the items' taxes."))
        };
        let manual = ObjectBuilder::new()
            .title(Some("manual"))
            .property("calculator", one_of(["manual"]))
            .property("amount", amount())
            .required("calculator")
            .required("amount");
        let RefOr::T(Schema::Object(rates)) = RatesResponse::schema() else {
            unreachable!("RatesResponse derives an object schema")
        };
        let rates = ObjectBuilder::from(rates)
            .title(Some("rates"))
            .property("calculator", one_of(["rates"]))
            .property("amount", amount())
            .required("calculator")
            .required("amount");
        let vat = ObjectBuilder::new()
            .title(Some("vat"))
            .property("calculator", one_of(["vat"]))
            .property("amount", amount())
            .property(
                "rate",
                ObjectBuilder::new()
                    .schema_type(Type::Number)
                    .description(Some(
                        "The VAT rate of every item, a fraction (0.19 is 19%).",
                    )),
            )
            .required("calculator")
            .required("amount")
            .required("rate");
        OneOfBuilder::new()
            .item(manual)
            .item(rates)
            .item(vat)
            .into()
    }
}

/// The rates of the `rates` calculator.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct RatesResponse {
    #[serde(serialize_with = "money::serialize")]
    state_rate: Decimal,
    #[serde(serialize_with = "money::serialize")]
    county_rate: Decimal,
    #[serde(serialize_with = "money::serialize")]
    city_rate: Decimal,
    #[serde(serialize_with = "money::serialize")]
    special_district_rate: Decimal,
    jurisdictions: Option<JurisdictionsResponse>,
}

impl InvoiceTaxResponse {
    /// The wire form of an invoice's tax settings and tax total; under `vat`, with its
    /// breakdown ([`vat_totals`](crate::domain::vat_totals::vat_totals) of its items).
    pub fn new(settings: &TaxSettings, amount: Decimal, vat_totals: &[VatTotal]) -> Self {
        let rates = match settings {
            TaxSettings::Manual | TaxSettings::Vat(_) => None,
            TaxSettings::Rates(rates) => Some(RatesResponse {
                state_rate: rates.state.get(),
                county_rate: rates.county.get(),
                city_rate: rates.city.get(),
                special_district_rate: rates.special_district.get(),
                jurisdictions: rates.jurisdictions.as_ref().map(JurisdictionsResponse::new),
            }),
        };
        let rate = match settings {
            TaxSettings::Vat(rate) => Some(rate.get()),
            TaxSettings::Manual | TaxSettings::Rates(_) => None,
        };
        let breakdown = rate.map(|_| {
            vat_totals
                .iter()
                .map(|total| VatTotalResponse {
                    category: total.category.code(),
                    rate: total.rate,
                    taxable_amount: total.taxable,
                    amount: total.tax,
                })
                .collect()
        });
        Self {
            calculator: settings.calculator(),
            amount,
            rates,
            rate,
            breakdown,
        }
    }
}

/// Reads an invoice's `tax` (absent or `null` is `manual`). Its `amount` is read-only: the sum
/// of the item taxes, accepted and ignored so that a client can send back what it read; so is
/// `items`, which Rebilly's manual tax carries.
pub fn parse_tax_settings(fields: &mut FieldReader) -> TaxSettings {
    let Some(mut tax) = fields.optional_object("tax") else {
        return TaxSettings::Manual;
    };
    let calculator = tax.required("calculator", |raw| match string(raw)?.as_str() {
        "manual" => Ok(Calculator::Manual),
        "rates" => Ok(Calculator::Rates),
        "vat" => Ok(Calculator::Vat),
        _ => Err(CALCULATORS.to_owned()),
    });
    let settings = match calculator {
        Some(Calculator::Rates) => TaxSettings::Rates(parse_rates(&mut tax)),
        Some(Calculator::Vat) => tax
            .required("rate", |raw| TaxRate::parse(number(raw)?))
            .map_or(TaxSettings::Manual, TaxSettings::Vat),
        Some(Calculator::Manual) | None => TaxSettings::Manual,
    };
    fields.adopt(tax, &["amount", "items"]);
    settings
}

/// The calculator a request names.
enum Calculator {
    Manual,
    Rates,
    Vat,
}

/// The `rates` calculator's fields; a rate left out is 0.
fn parse_rates(tax: &mut FieldReader) -> TaxRates {
    let mut rate = |name: &str| {
        tax.optional(name, |raw| TaxRate::parse(number(raw)?))
            .unwrap_or_default()
    };
    let state = rate("stateRate");
    let county = rate("countyRate");
    let city = rate("cityRate");
    let special_district = rate("specialDistrictRate");
    let jurisdictions = tax.optional_object("jurisdictions").map(|mut names| {
        let mut name =
            |field: &str| names.optional(field, |raw| JurisdictionName::parse(string(raw)?));
        let jurisdictions = Jurisdictions {
            country: name("country"),
            state: name("state"),
            county: name("county"),
            city: name("city"),
        };
        tax.adopt(names, &[]);
        jurisdictions
    });
    // All four names null say no more than no jurisdictions at all.
    let jurisdictions = jurisdictions.filter(|names| *names != Jurisdictions::default());
    TaxRates {
        state,
        county,
        city,
        special_district,
        jurisdictions,
    }
}

pub(super) fn tax_settings() -> RefOr<Schema> {
    let read_back = || {
        [
            ("amount", read_only().into()),
            ("items", read_only().into()),
        ]
    };
    let manual = closed_object(
        &["calculator"],
        [("calculator", one_of(["manual"]).into())]
            .into_iter()
            .chain(read_back()),
    )
    .title(Some("manual"))
    .description(Some("Each item's tax is set by hand on the item."));
    let rate = || {
        nullable(schema::number(Decimal::ZERO, Decimal::ONE))
            .description(Some(format!(
                "A fraction (0.0625 is 6.25%) with at most {MAX_RATE_PLACES} decimal places; \
                 0 when absent or null."
            )))
            .into()
    };
    let name = || nullable(text(JurisdictionName::MAX_CHARS)).into();
    let jurisdictions = nullable(closed_object(
        &[],
        [
            ("country", name()),
            ("state", name()),
            ("county", name()),
            ("city", name()),
        ],
    ));
    let rates = closed_object(
        &["calculator"],
        [
            ("calculator", one_of(["rates"]).into()),
            ("stateRate", rate()),
            ("countyRate", rate()),
            ("cityRate", rate()),
            ("specialDistrictRate", rate()),
            ("jurisdictions", jurisdictions.into()),
        ]
        .into_iter()
        .chain(read_back()),
    )
    .title(Some("rates"))
    .description(Some(
        "Each debit item is taxed at these rates, on its price after discounts.",
    ));
    let vat = closed_object(
        &["calculator", "rate"],
        [
            ("calculator", one_of(["vat"]).into()),
            (
                "rate",
                schema::number(Decimal::ZERO, Decimal::ONE)
                    .description(Some(format!(
                        "The VAT rate, a fraction (0.19 is 19%) with at most {MAX_RATE_PLACES} \
                         decimal places: every item falls in VAT category S at it (Z at 0)."
                    )))
                    .into(),
            ),
        ]
        .into_iter()
        .chain(read_back()),
    )
    .title(Some("vat"))
    .description(Some(
        "EU VAT as EN 16931 computes it: once per category and rate, on the sum of the \
         items' amounts after discounts (credits lower it); each debit item shows its share.",
    ));
    any_of([manual.into(), rates.into(), vat.into(), null().into()])
        .description(Some(
            "How the items' taxes are computed; `manual` when absent or null.",
        ))
        .into()
}
