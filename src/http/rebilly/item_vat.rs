//! An item's own VAT on the wire: `vat: {"category": "E", "rate": 0, "exemptionReason": ...,
//! "exemptionCode": "VATEX-EU-132"}`, read field by field and answered as stored. The
//! category's rules (rate, exemption) are the domain's; this names the field that breaks one.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::ObjectBuilder;

use super::fields::{FieldReader, number, string};
use super::openapi::schema::{self, closed_object, nullable, one_of, text};
use crate::domain::money;
use crate::domain::tax::{MAX_RATE_PLACES, TaxRate};
use crate::domain::vat::{
    Exemption, ExemptionCode, ExemptionReason, LineVat, VatCategory, VatPart,
};

/// Reads an item's `vat`, if given; every bad part is named in `fields`.
pub(super) fn parse_item_vat(fields: &mut FieldReader) -> Option<LineVat> {
    let mut vat = fields.optional_object("vat")?;
    // A part given but refused is named alone: the category's rules are checked on the rest
    // only when every part given was read.
    let given = ["rate", "exemptionReason", "exemptionCode"].map(|name| vat.has_value(name));
    let category = vat.required("category", |raw| VatCategory::parse(&string(raw)?));
    let rate = vat.optional("rate", |raw| TaxRate::parse(number(raw)?));
    let reason = vat.optional("exemptionReason", |raw| {
        ExemptionReason::parse(string(raw)?)
    });
    let code = vat.optional("exemptionCode", |raw| ExemptionCode::parse(&string(raw)?));
    let read = [rate.is_some(), reason.is_some(), code.is_some()];
    // An exemption refused is named where it was given: the code when only it was.
    let exemption_field = if code.is_some() && reason.is_none() {
        "exemptionCode"
    } else {
        "exemptionReason"
    };
    let parsed = category.filter(|_| read == given).and_then(|category| {
        let exemption = Exemption { reason, code };
        LineVat::new(category, rate, Some(exemption))
            .map_err(|(part, rule)| {
                let field = match part {
                    VatPart::Rate => "rate",
                    VatPart::Exemption => exemption_field,
                };
                vat.reject(field, rule);
            })
            .ok()
    });
    fields.adopt(vat, &[]);
    parsed
}

/// The item's `vat` as a request gives it.
pub(super) fn item_vat_schema() -> ObjectBuilder {
    let codes: Vec<&str> = VatCategory::ALL
        .iter()
        .map(|category| category.code())
        .collect();
    nullable(closed_object(
        &["category"],
        [
            ("category", one_of(codes).into()),
            (
                "rate",
                nullable(schema::number(Decimal::ZERO, Decimal::ONE))
                    .description(Some(format!(
                        "A fraction (0.07 is 7%) with at most {MAX_RATE_PLACES} decimal \
                         places: more than 0 in S, 0 in Z, E, AE, K and G, absent in O."
                    )))
                    .into(),
            ),
            (
                "exemptionReason",
                nullable(text(ExemptionReason::MAX_CHARS))
                    .description(Some(
                        "Why the supply bears no VAT (BT-120). E, AE, K, G and O need it or \
                         `exemptionCode`; S, Z, L and M take neither.",
                    ))
                    .into(),
            ),
            (
                "exemptionCode",
                nullable(ObjectBuilder::new().schema_type(utoipa::openapi::Type::String))
                    .description(Some(
                        "A code of the VATEX list (BT-121), such as VATEX-EU-132.",
                    ))
                    .into(),
            ),
        ],
    ))
    .title(Some("Item VAT"))
    .description(Some(
        "The item's own VAT category (UNCL 5305) and rate under the invoice's `vat` \
         calculator; absent or null takes the invoice's rate (category S, or Z at 0).",
    ))
}

/// An item's own VAT, as stored.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ItemVat)]
pub struct ItemVatResponse {
    /// The VAT category (UNCL 5305).
    category: &'static str,
    /// The rate; null in category O.
    #[serde(serialize_with = "money::serialize_option")]
    rate: Option<Decimal>,
    exemption_reason: Option<String>,
    exemption_code: Option<&'static str>,
}

impl ItemVatResponse {
    /// The wire form of an item's own VAT.
    pub fn new(vat: &LineVat) -> Self {
        let category = vat.category();
        let exemption = vat.exemption();
        Self {
            category: category.code(),
            rate: (category != VatCategory::OutsideScope).then_some(vat.rate()),
            exemption_reason: exemption
                .and_then(|exemption| exemption.reason.as_ref())
                .map(|reason| reason.as_str().to_owned()),
            exemption_code: exemption
                .and_then(|exemption| exemption.code)
                .map(ExemptionCode::as_str),
        }
    }
}
