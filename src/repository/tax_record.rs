//! Taxes as the database keeps them: an invoice's tax settings in `invoices.tax` and an item's
//! tax in `invoice_items.tax`, one JSON value each. This file is the one mapping between the
//! domain's taxes and their stored form, so a new component or rate is one field here, and no
//! new column.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::corrupt;
use crate::domain::tax::{
    ComputedTax, ItemTax, JurisdictionName, Jurisdictions, ManualTax, TaxAmount, TaxComponent,
    TaxDescription, TaxRate, TaxRates, TaxSettings, VatShare,
};
use crate::domain::vat::{Exemption, ExemptionCode, ExemptionReason, LineVat, VatCategory};

/// The stored form of an invoice's [`TaxSettings`], tagged by its calculator.
#[derive(Debug, Serialize, Deserialize)]
#[serde(
    tag = "calculator",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub(super) enum TaxSettingsRecord {
    /// Taxes are set by hand on each item.
    Manual,
    /// Items are taxed at these rates.
    Rates {
        rates: RatesRecord,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        jurisdictions: Option<JurisdictionsRecord>,
    },
    /// EU VAT at this default rate.
    Vat { rate: StoredDecimal },
}

/// The rates of the `rates` calculator, by component.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RatesRecord {
    state: StoredDecimal,
    county: StoredDecimal,
    city: StoredDecimal,
    special_district: StoredDecimal,
}

/// The stored form of an [`ItemTax`], tagged by the calculator that made it. Read through
/// [`ItemTaxFields`], in one pass: serde reads a tagged enum by first copying every other
/// entry of the object aside, and every write into a taxed invoice with discounts reads all
/// its items' taxes.
#[derive(Debug, Serialize, Deserialize)]
#[allow(
    clippy::large_enum_variant,
    reason = "made and dropped once per item written or read, as the domain's tax is"
)]
#[serde(
    tag = "calculator",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    try_from = "ItemTaxFields"
)]
pub(super) enum ItemTaxRecord {
    /// Set by hand.
    Manual {
        amount: StoredDecimal,
        description: String,
    },
    /// Computed from the invoice's rates.
    Rates {
        amount: StoredDecimal,
        rate: StoredDecimal,
        components: ComponentsRecord,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        jurisdictions: Option<JurisdictionsRecord>,
    },
    /// A share of the invoice's VAT.
    Vat {
        amount: StoredDecimal,
        rate: StoredDecimal,
        category: String,
    },
}

/// Every field of a stored [`ItemTaxRecord`] in one flat object, read in one pass whatever the
/// order of its keys; the calculator tells which of them must be there.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemTaxFields {
    calculator: Calculator,
    amount: StoredDecimal,
    description: Option<String>,
    rate: Option<StoredDecimal>,
    components: Option<ComponentsRecord>,
    jurisdictions: Option<JurisdictionsRecord>,
    category: Option<String>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Calculator {
    Manual,
    Rates,
    Vat,
}

impl TryFrom<ItemTaxFields> for ItemTaxRecord {
    type Error = String;

    fn try_from(fields: ItemTaxFields) -> Result<Self, String> {
        let ItemTaxFields {
            calculator,
            amount,
            description,
            rate,
            components,
            jurisdictions,
            category,
        } = fields;
        let missing = |field: &str| format!("a stored tax without its `{field}`");
        Ok(match calculator {
            Calculator::Manual => Self::Manual {
                amount,
                description: description.ok_or_else(|| missing("description"))?,
            },
            Calculator::Rates => Self::Rates {
                amount,
                rate: rate.ok_or_else(|| missing("rate"))?,
                components: components.ok_or_else(|| missing("components"))?,
                jurisdictions,
            },
            Calculator::Vat => Self::Vat {
                amount,
                rate: rate.ok_or_else(|| missing("rate"))?,
                category: category.ok_or_else(|| missing("category"))?,
            },
        })
    }
}

/// The components of a computed tax, by name; the database checks that their amounts add up
/// to the tax's, whichever they are.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ComponentsRecord {
    state: ComponentRecord,
    county: ComponentRecord,
    city: ComponentRecord,
    special_district: ComponentRecord,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ComponentRecord {
    rate: StoredDecimal,
    amount: StoredDecimal,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct JurisdictionsRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    county: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    city: Option<String>,
}

/// A decimal kept as its exact text (a JSON string): a JSON number could pass through a float
/// on its way.
#[derive(Debug, Clone, Copy)]
pub(super) struct StoredDecimal(pub(super) Decimal);

impl Serialize for StoredDecimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for StoredDecimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(DecimalText)
    }
}

/// Reads a decimal's text where it lies, without a copy of its own.
struct DecimalText;

impl Visitor<'_> for DecimalText {
    type Value = StoredDecimal;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a decimal as a string")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<StoredDecimal, E> {
        Decimal::from_str(text)
            .map(StoredDecimal)
            .map_err(E::custom)
    }
}

impl From<&TaxSettings> for TaxSettingsRecord {
    fn from(settings: &TaxSettings) -> Self {
        match settings {
            TaxSettings::Manual => Self::Manual,
            TaxSettings::Rates(rates) => Self::Rates {
                rates: RatesRecord {
                    state: StoredDecimal(rates.state.get()),
                    county: StoredDecimal(rates.county.get()),
                    city: StoredDecimal(rates.city.get()),
                    special_district: StoredDecimal(rates.special_district.get()),
                },
                jurisdictions: rates.jurisdictions.as_ref().map(JurisdictionsRecord::from),
            },
            TaxSettings::Vat(rate) => Self::Vat {
                rate: StoredDecimal(rate.get()),
            },
        }
    }
}

impl TryFrom<TaxSettingsRecord> for TaxSettings {
    type Error = sqlx::Error;

    fn try_from(record: TaxSettingsRecord) -> Result<Self, sqlx::Error> {
        let rate = |value: StoredDecimal| {
            TaxRate::parse(value.0).map_err(|_| corrupt("tax rate", &value.0.to_string()))
        };
        let (rates, jurisdictions) = match record {
            TaxSettingsRecord::Manual => return Ok(Self::Manual),
            TaxSettingsRecord::Vat { rate: value } => return Ok(Self::Vat(rate(value)?)),
            TaxSettingsRecord::Rates {
                rates,
                jurisdictions,
            } => (rates, jurisdictions),
        };
        Ok(Self::Rates(TaxRates {
            state: rate(rates.state)?,
            county: rate(rates.county)?,
            city: rate(rates.city)?,
            special_district: rate(rates.special_district)?,
            jurisdictions: jurisdictions.map(Jurisdictions::try_from).transpose()?,
        }))
    }
}

impl From<&ItemTax> for ItemTaxRecord {
    fn from(tax: &ItemTax) -> Self {
        match tax {
            ItemTax::Manual(tax) => Self::Manual {
                amount: StoredDecimal(tax.amount()),
                description: tax.description().to_owned(),
            },
            ItemTax::Computed(tax) => Self::Rates {
                amount: StoredDecimal(tax.amount),
                rate: StoredDecimal(tax.rate),
                components: ComponentsRecord {
                    state: tax.state.into(),
                    county: tax.county.into(),
                    city: tax.city.into(),
                    special_district: tax.special_district.into(),
                },
                jurisdictions: tax.jurisdictions.as_ref().map(JurisdictionsRecord::from),
            },
            ItemTax::Vat(share) => Self::Vat {
                amount: StoredDecimal(share.amount),
                rate: StoredDecimal(share.rate),
                category: share.category.code().to_owned(),
            },
        }
    }
}

impl TryFrom<ItemTaxRecord> for ItemTax {
    type Error = sqlx::Error;

    fn try_from(record: ItemTaxRecord) -> Result<Self, sqlx::Error> {
        Ok(match record {
            ItemTaxRecord::Manual {
                amount,
                description,
            } => {
                let amount = TaxAmount::parse(amount.0)
                    .map_err(|_| corrupt("manual tax amount", &amount.0.to_string()))?;
                let shown = description.clone();
                let description = TaxDescription::parse(description)
                    .map_err(|_| corrupt("manual tax description", &shown))?;
                Self::Manual(ManualTax::new(amount, description))
            }
            ItemTaxRecord::Rates {
                amount,
                rate,
                components,
                jurisdictions,
            } => Self::Computed(ComputedTax {
                amount: amount.0,
                rate: rate.0,
                state: components.state.into(),
                county: components.county.into(),
                city: components.city.into(),
                special_district: components.special_district.into(),
                jurisdictions: jurisdictions.map(Jurisdictions::try_from).transpose()?,
            }),
            ItemTaxRecord::Vat {
                amount,
                rate,
                category,
            } => Self::Vat(VatShare {
                amount: amount.0,
                category: VatCategory::parse(&category)
                    .map_err(|_| corrupt("VAT category", &category))?,
                rate: rate.0,
            }),
        })
    }
}

impl From<TaxComponent> for ComponentRecord {
    fn from(component: TaxComponent) -> Self {
        Self {
            rate: StoredDecimal(component.rate),
            amount: StoredDecimal(component.amount),
        }
    }
}

impl From<ComponentRecord> for TaxComponent {
    fn from(record: ComponentRecord) -> Self {
        Self {
            rate: record.rate.0,
            amount: record.amount.0,
        }
    }
}

impl From<&Jurisdictions> for JurisdictionsRecord {
    fn from(jurisdictions: &Jurisdictions) -> Self {
        let text = |name: &Option<JurisdictionName>| name.as_ref().map(|n| n.as_str().to_owned());
        Self {
            country: text(&jurisdictions.country),
            state: text(&jurisdictions.state),
            county: text(&jurisdictions.county),
            city: text(&jurisdictions.city),
        }
    }
}

impl TryFrom<JurisdictionsRecord> for Jurisdictions {
    type Error = sqlx::Error;

    fn try_from(record: JurisdictionsRecord) -> Result<Self, sqlx::Error> {
        let name = |value: Option<String>| {
            value
                .map(|text| {
                    let shown = text.clone();
                    JurisdictionName::parse(text).map_err(|_| corrupt("jurisdiction", &shown))
                })
                .transpose()
        };
        Ok(Self {
            country: name(record.country)?,
            state: name(record.state)?,
            county: name(record.county)?,
            city: name(record.city)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    fn computed() -> ItemTax {
        let component = |rate, amount| TaxComponent { rate, amount };
        ItemTax::Computed(ComputedTax {
            amount: dec!(0.83),
            rate: dec!(0.0825),
            state: component(dec!(0.0625), dec!(0.63)),
            county: component(dec!(0.01), dec!(0.10)),
            city: component(dec!(0.01), dec!(0.10)),
            special_district: component(dec!(0.0000), dec!(0.00)),
            jurisdictions: Some(Jurisdictions {
                country: Some(JurisdictionName::parse("US".into()).unwrap()),
                state: Some(JurisdictionName::parse("TX".into()).unwrap()),
                ..Jurisdictions::default()
            }),
        })
    }

    #[test]
    fn a_computed_tax_is_stored_with_exact_decimal_text_and_read_back_unchanged() {
        let tax = computed();
        let stored = serde_json::to_value(ItemTaxRecord::from(&tax)).unwrap();
        assert_eq!(
            stored,
            json!({
                "calculator": "rates", "amount": "0.83", "rate": "0.0825",
                "components": {
                    "state": {"rate": "0.0625", "amount": "0.63"},
                    "county": {"rate": "0.01", "amount": "0.10"},
                    "city": {"rate": "0.01", "amount": "0.10"},
                    "specialDistrict": {"rate": "0.0000", "amount": "0.00"},
                },
                "jurisdictions": {"country": "US", "state": "TX"},
            })
        );
        let record: ItemTaxRecord = serde_json::from_value(stored).unwrap();
        assert_eq!(ItemTax::try_from(record).unwrap(), tax);
    }

    #[test]
    fn a_manual_tax_is_read_back_unchanged() {
        let tax = ItemTax::Manual(ManualTax::new(
            TaxAmount::parse(dec!(1.5)).unwrap(),
            TaxDescription::parse("VAT".into()).unwrap(),
        ));
        let stored = serde_json::to_value(ItemTaxRecord::from(&tax)).unwrap();
        assert_eq!(
            stored,
            json!({"calculator": "manual", "amount": "1.5", "description": "VAT"})
        );
        let record: ItemTaxRecord = serde_json::from_value(stored).unwrap();
        assert_eq!(ItemTax::try_from(record).unwrap(), tax);
    }

    #[test]
    fn a_stored_tax_is_read_whatever_the_order_of_its_keys() {
        // As PostgreSQL gives this one back (jsonb: shortest keys first), the tag last; the
        // next one in another order than the one written.
        let vat = r#"{"rate": "0.21", "amount": "2.10", "category": "S", "calculator": "vat"}"#;
        let record: ItemTaxRecord = serde_json::from_str(vat).unwrap();
        let share = VatShare {
            amount: dec!(2.10),
            category: VatCategory::parse("S").unwrap(),
            rate: dec!(0.21),
        };
        assert_eq!(ItemTax::try_from(record).unwrap(), ItemTax::Vat(share));
        let rates = r#"{"rate": "0.0825", "amount": "0.83",
            "components": {"city": {"rate": "0.01", "amount": "0.10"},
                           "state": {"rate": "0.0625", "amount": "0.63"},
                           "county": {"rate": "0.01", "amount": "0.10"},
                           "specialDistrict": {"rate": "0.0000", "amount": "0.00"}},
            "calculator": "rates", "jurisdictions": {"state": "TX", "country": "US"}}"#;
        let record: ItemTaxRecord = serde_json::from_str(rates).unwrap();
        assert_eq!(ItemTax::try_from(record).unwrap(), computed());
    }

    #[test]
    fn a_stored_tax_without_a_field_its_calculator_needs_is_refused_by_name() {
        let without_rate = r#"{"amount": "2.10", "category": "S", "calculator": "vat"}"#;
        let error = serde_json::from_str::<ItemTaxRecord>(without_rate).unwrap_err();
        assert!(error.to_string().contains("`rate`"), "{error}");
        let unknown = r#"{"amount": "1", "calculator": "guess"}"#;
        assert!(serde_json::from_str::<ItemTaxRecord>(unknown).is_err());
    }

    #[test]
    fn tax_settings_are_read_back_unchanged() {
        let rate = |value| TaxRate::parse(value).unwrap();
        let rates = TaxSettings::Rates(TaxRates {
            state: rate(dec!(0.0625)),
            county: rate(dec!(0.01)),
            city: rate(dec!(0)),
            special_district: rate(dec!(0.005)),
            jurisdictions: None,
        });
        for (settings, stored) in [
            (TaxSettings::Manual, json!({"calculator": "manual"})),
            (
                rates,
                json!({"calculator": "rates", "rates": {"state": "0.0625", "county": "0.01",
                       "city": "0", "specialDistrict": "0.005"}}),
            ),
        ] {
            assert_eq!(
                serde_json::to_value(TaxSettingsRecord::from(&settings)).unwrap(),
                stored
            );
            let record: TaxSettingsRecord = serde_json::from_value(stored).unwrap();
            assert_eq!(TaxSettings::try_from(record).unwrap(), settings);
        }
    }

    #[test]
    fn a_stored_tax_breaking_the_domain_rules_is_reported_as_corrupt() {
        let negative = json!({"calculator": "manual", "amount": "-1", "description": "VAT"});
        let record: ItemTaxRecord = serde_json::from_value(negative).unwrap();
        assert!(ItemTax::try_from(record).is_err());
        let float = json!({"calculator": "manual", "amount": 1.5, "description": "VAT"});
        assert!(serde_json::from_value::<ItemTaxRecord>(float).is_err());
        let rate_above_one = json!({"calculator": "rates", "rates": {"state": "2", "county": "0",
                                    "city": "0", "specialDistrict": "0"}});
        let record: TaxSettingsRecord = serde_json::from_value(rate_above_one).unwrap();
        assert!(TaxSettings::try_from(record).is_err());
    }
}

/// The stored form of an item's own [`LineVat`], in `invoice_items.vat`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LineVatRecord {
    category: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rate: Option<StoredDecimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exemption_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exemption_code: Option<String>,
}

impl From<&LineVat> for LineVatRecord {
    fn from(vat: &LineVat) -> Self {
        let category = vat.category();
        let exemption = vat.exemption();
        Self {
            category: category.code().to_owned(),
            // Category `O` has no rate at all, which the domain keeps as 0.
            rate: (category != VatCategory::OutsideScope).then_some(StoredDecimal(vat.rate())),
            exemption_reason: exemption
                .and_then(|exemption| exemption.reason.as_ref())
                .map(|reason| reason.as_str().to_owned()),
            exemption_code: exemption
                .and_then(|exemption| exemption.code)
                .map(|code| code.as_str().to_owned()),
        }
    }
}

impl TryFrom<LineVatRecord> for LineVat {
    type Error = sqlx::Error;

    fn try_from(record: LineVatRecord) -> Result<Self, sqlx::Error> {
        let category = VatCategory::parse(&record.category)
            .map_err(|_| corrupt("VAT category", &record.category))?;
        let rate = record
            .rate
            .map(|value| {
                TaxRate::parse(value.0).map_err(|_| corrupt("VAT rate", &value.0.to_string()))
            })
            .transpose()?;
        let reason = record
            .exemption_reason
            .map(|text| {
                let shown = text.clone();
                ExemptionReason::parse(text).map_err(|_| corrupt("VAT exemption reason", &shown))
            })
            .transpose()?;
        let code = record
            .exemption_code
            .map(|code| {
                ExemptionCode::parse(&code).map_err(|_| corrupt("VAT exemption code", &code))
            })
            .transpose()?;
        let exemption = (reason.is_some() || code.is_some()).then_some(Exemption { reason, code });
        LineVat::new(category, rate, exemption)
            .map_err(|(_, rule)| corrupt("item VAT", &format!("{} {rule}", record.category)))
    }
}
