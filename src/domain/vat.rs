//! EU VAT as EN 16931 describes it: every line of an invoice falls in one VAT category (a code of
//! UNCL 5305) at one rate, and some categories need the reason the supply bears no VAT.
//!
//! Each category's own rules (BR-S-*, BR-Z-*, BR-E-*, BR-AE-*, BR-IC-*, BR-G-*, BR-O-*, BR-AF-*,
//! BR-AG-*) on the rate and on the exemption are checked here, where an item's VAT is parsed, so
//! that an e-invoice is never built from a line the standard would refuse.

use rust_decimal::Decimal;

use super::rate::TaxRate;
use super::text::BoundedText;

/// A VAT category of EN 16931 (BT-151, BT-118), by its UNCL 5305 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VatCategory {
    /// `S`: the standard rate, or a reduced one.
    Standard,
    /// `Z`: a zero-rated supply.
    ZeroRated,
    /// `E`: exempt from VAT.
    Exempt,
    /// `AE`: VAT reverse charge; the buyer accounts for it.
    ReverseCharge,
    /// `K`: an intra-community supply of goods and services.
    IntraCommunity,
    /// `G`: an export outside the EU.
    Export,
    /// `O`: a supply outside the scope of VAT.
    OutsideScope,
    /// `L`: the Canary Islands' general indirect tax (IGIC).
    CanaryIslands,
    /// `M`: the tax for production, services and importation in Ceuta and Melilla (IPSI).
    CeutaMelilla,
}

/// What a category allows of a line's rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateRule {
    /// More than zero (`S`).
    Positive,
    /// Exactly zero (`Z`, `E`, `AE`, `K`, `G`).
    Zero,
    /// Zero or more (`L`, `M`).
    AnyRate,
    /// None at all: the supply is outside VAT (`O`).
    NoRate,
}

impl VatCategory {
    /// Every category, in the order of their codes in EN 16931's tables.
    pub const ALL: [Self; 9] = [
        Self::Standard,
        Self::ZeroRated,
        Self::Exempt,
        Self::ReverseCharge,
        Self::IntraCommunity,
        Self::Export,
        Self::OutsideScope,
        Self::CanaryIslands,
        Self::CeutaMelilla,
    ];

    /// The UNCL 5305 code, as the wire and the e-invoice write it.
    pub fn code(self) -> &'static str {
        match self {
            Self::Standard => "S",
            Self::ZeroRated => "Z",
            Self::Exempt => "E",
            Self::ReverseCharge => "AE",
            Self::IntraCommunity => "K",
            Self::Export => "G",
            Self::OutsideScope => "O",
            Self::CanaryIslands => "L",
            Self::CeutaMelilla => "M",
        }
    }

    /// The category of a code, exactly as written (codes are upper case).
    pub fn parse(code: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|category| category.code() == code)
            .ok_or_else(|| {
                let codes: Vec<&str> = Self::ALL.iter().map(|category| category.code()).collect();
                format!("must be one of {}", codes.join(", "))
            })
    }

    /// What the category allows of the rate (BR-*-05 of each category).
    pub fn rate_rule(self) -> RateRule {
        match self {
            Self::Standard => RateRule::Positive,
            Self::ZeroRated
            | Self::Exempt
            | Self::ReverseCharge
            | Self::IntraCommunity
            | Self::Export => RateRule::Zero,
            Self::CanaryIslands | Self::CeutaMelilla => RateRule::AnyRate,
            Self::OutsideScope => RateRule::NoRate,
        }
    }

    /// Whether the category must give why no VAT is charged (BR-*-10 of each category): those
    /// whose supplies bear none. The others must not give one.
    pub fn needs_exemption(self) -> bool {
        matches!(
            self,
            Self::Exempt
                | Self::ReverseCharge
                | Self::IntraCommunity
                | Self::Export
                | Self::OutsideScope
        )
    }
}

/// The words of an exemption reason (BT-120), at most 255 characters.
pub type ExemptionReason = BoundedText<255>;

/// The codes of the VATEX list (BT-121) that EN 16931's rules accept, as CEN/TC 434's
/// validation artefacts list them.
const EXEMPTION_CODES: &[&str] = &[
    "VATEX-EU-79-C",
    "VATEX-EU-132",
    "VATEX-EU-132-1A",
    "VATEX-EU-132-1B",
    "VATEX-EU-132-1C",
    "VATEX-EU-132-1D",
    "VATEX-EU-132-1E",
    "VATEX-EU-132-1F",
    "VATEX-EU-132-1G",
    "VATEX-EU-132-1H",
    "VATEX-EU-132-1I",
    "VATEX-EU-132-1J",
    "VATEX-EU-132-1K",
    "VATEX-EU-132-1L",
    "VATEX-EU-132-1M",
    "VATEX-EU-132-1N",
    "VATEX-EU-132-1O",
    "VATEX-EU-132-1P",
    "VATEX-EU-132-1Q",
    "VATEX-EU-135-1",
    "VATEX-EU-143",
    "VATEX-EU-143-1A",
    "VATEX-EU-143-1B",
    "VATEX-EU-143-1C",
    "VATEX-EU-143-1D",
    "VATEX-EU-143-1E",
    "VATEX-EU-143-1F",
    "VATEX-EU-143-1FA",
    "VATEX-EU-143-1G",
    "VATEX-EU-143-1H",
    "VATEX-EU-143-1I",
    "VATEX-EU-143-1J",
    "VATEX-EU-143-1K",
    "VATEX-EU-143-1L",
    "VATEX-EU-144",
    "VATEX-EU-146-1E",
    "VATEX-EU-148",
    "VATEX-EU-148-A",
    "VATEX-EU-148-B",
    "VATEX-EU-148-C",
    "VATEX-EU-148-D",
    "VATEX-EU-148-E",
    "VATEX-EU-148-F",
    "VATEX-EU-148-G",
    "VATEX-EU-151",
    "VATEX-EU-151-1A",
    "VATEX-EU-151-1AA",
    "VATEX-EU-151-1B",
    "VATEX-EU-151-1C",
    "VATEX-EU-151-1D",
    "VATEX-EU-151-1E",
    "VATEX-EU-153",
    "VATEX-EU-159",
    "VATEX-EU-309",
    "VATEX-EU-AE",
    "VATEX-EU-D",
    "VATEX-EU-F",
    "VATEX-EU-G",
    "VATEX-EU-I",
    "VATEX-EU-IC",
    "VATEX-EU-J",
    "VATEX-EU-O",
    "VATEX-FR-298SEXDECIESA",
    "VATEX-FR-AE",
    "VATEX-FR-CGI261-1",
    "VATEX-FR-CGI261-2",
    "VATEX-FR-CGI261-3",
    "VATEX-FR-CGI261-4",
    "VATEX-FR-CGI261-5",
    "VATEX-FR-CGI261-7",
    "VATEX-FR-CGI261-8",
    "VATEX-FR-CGI261A",
    "VATEX-FR-CGI261B",
    "VATEX-FR-CGI261C-1",
    "VATEX-FR-CGI261C-2",
    "VATEX-FR-CGI261C-3",
    "VATEX-FR-CGI261D-1",
    "VATEX-FR-CGI261D-1BIS",
    "VATEX-FR-CGI261D-2",
    "VATEX-FR-CGI261D-3",
    "VATEX-FR-CGI261D-4",
    "VATEX-FR-CGI261E-1",
    "VATEX-FR-CGI261E-2",
    "VATEX-FR-CGI275",
    "VATEX-FR-CGI277A",
    "VATEX-FR-CGI295",
    "VATEX-FR-CNWVAT",
    "VATEX-FR-FRANCHISE",
];

/// A code of the VATEX list (BT-121), such as `VATEX-EU-132`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExemptionCode(&'static str);

impl ExemptionCode {
    /// The code, if the VATEX list has it (codes are upper case).
    pub fn parse(code: &str) -> Result<Self, String> {
        EXEMPTION_CODES
            .iter()
            .find(|known| **known == code)
            .map(|known| Self(known))
            .ok_or_else(|| "must be a code of the VATEX list, such as VATEX-EU-132".to_owned())
    }

    /// The code.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// Why a supply bears no VAT: words, a code, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exemption {
    /// The reason in words (BT-120).
    pub reason: Option<ExemptionReason>,
    /// The reason as a VATEX code (BT-121).
    pub code: Option<ExemptionCode>,
}

/// Which part of a line's VAT is wrong, for the edge to name the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VatPart {
    /// The rate.
    Rate,
    /// The exemption reason or code.
    Exemption,
}

/// A line's VAT: its category, its rate and, where the category needs one, its exemption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineVat {
    category: VatCategory,
    rate: Decimal,
    exemption: Option<Exemption>,
}

impl LineVat {
    /// Checks the rate and the exemption against the category's rules. An `O` line gives no
    /// rate; every other category needs one (`None` means it was not given).
    pub fn new(
        category: VatCategory,
        rate: Option<TaxRate>,
        exemption: Option<Exemption>,
    ) -> Result<Self, (VatPart, String)> {
        let code = category.code();
        let rate = match (category.rate_rule(), rate.map(TaxRate::get)) {
            (RateRule::NoRate, None) => Decimal::ZERO,
            (RateRule::NoRate, Some(_)) => {
                return Err((VatPart::Rate, format!("must be absent in category {code}")));
            }
            (_, None) => return Err((VatPart::Rate, format!("is required in category {code}"))),
            (RateRule::Positive, Some(rate)) if rate.is_zero() => {
                return Err((
                    VatPart::Rate,
                    format!("must be more than 0 in category {code}"),
                ));
            }
            (RateRule::Zero, Some(rate)) if !rate.is_zero() => {
                return Err((VatPart::Rate, format!("must be 0 in category {code}")));
            }
            (_, Some(rate)) => rate.normalize(),
        };
        let given =
            exemption.filter(|exemption| exemption.reason.is_some() || exemption.code.is_some());
        match (category.needs_exemption(), given) {
            (true, None) => Err((
                VatPart::Exemption,
                format!("a reason or a code is required in category {code}"),
            )),
            (false, Some(_)) => Err((
                VatPart::Exemption,
                format!("must be absent in category {code}, which charges VAT"),
            )),
            (_, exemption) => Ok(Self {
                category,
                rate,
                exemption,
            }),
        }
    }

    /// The line VAT of an invoice's default rate: category `S` at that rate, or `Z` at 0.
    pub fn standard(rate: TaxRate) -> Self {
        let category = if rate.get().is_zero() {
            VatCategory::ZeroRated
        } else {
            VatCategory::Standard
        };
        Self {
            category,
            rate: rate.get().normalize(),
            exemption: None,
        }
    }

    /// The category.
    pub fn category(&self) -> VatCategory {
        self.category
    }

    /// The rate as a fraction (`0.19` is 19%); 0 in category `O`, which has none.
    pub fn rate(&self) -> Decimal {
        self.rate
    }

    /// Why the supply bears no VAT, where the category says.
    pub fn exemption(&self) -> Option<&Exemption> {
        self.exemption.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn rate(value: Decimal) -> Option<TaxRate> {
        Some(TaxRate::parse(value).unwrap())
    }

    fn because(words: &str) -> Option<Exemption> {
        Some(Exemption {
            reason: Some(ExemptionReason::parse(words.to_owned()).unwrap()),
            code: None,
        })
    }

    #[test]
    fn codes_read_back_as_their_category() {
        for category in VatCategory::ALL {
            assert_eq!(VatCategory::parse(category.code()), Ok(category));
        }
        assert!(VatCategory::parse("s").is_err());
        assert!(VatCategory::parse("VAT").is_err());
    }

    #[test]
    fn each_category_holds_its_rate_rule() {
        assert!(LineVat::new(VatCategory::Standard, rate(dec!(0.19)), None).is_ok());
        assert_eq!(
            LineVat::new(VatCategory::Standard, rate(dec!(0)), None)
                .unwrap_err()
                .0,
            VatPart::Rate
        );
        assert!(LineVat::new(VatCategory::ZeroRated, rate(dec!(0)), None).is_ok());
        assert!(LineVat::new(VatCategory::ZeroRated, rate(dec!(0.07)), None).is_err());
        assert!(LineVat::new(VatCategory::CanaryIslands, rate(dec!(0)), None).is_ok());
        assert!(LineVat::new(VatCategory::CeutaMelilla, rate(dec!(0.04)), None).is_ok());
        assert!(LineVat::new(VatCategory::Standard, None, None).is_err());
        let outside = because("Not subject to VAT");
        assert!(LineVat::new(VatCategory::OutsideScope, None, outside.clone()).is_ok());
        assert!(LineVat::new(VatCategory::OutsideScope, rate(dec!(0)), outside).is_err());
    }

    #[test]
    fn categories_without_vat_say_why_and_the_others_do_not() {
        for category in [
            VatCategory::Exempt,
            VatCategory::ReverseCharge,
            VatCategory::IntraCommunity,
            VatCategory::Export,
        ] {
            let missing = LineVat::new(category, rate(dec!(0)), None).unwrap_err();
            assert_eq!(missing.0, VatPart::Exemption, "{category:?}");
            let blank = Exemption {
                reason: None,
                code: None,
            };
            assert!(LineVat::new(category, rate(dec!(0)), Some(blank)).is_err());
            assert!(LineVat::new(category, rate(dec!(0)), because("Exempt")).is_ok());
        }
        let coded = Exemption {
            reason: None,
            code: Some(ExemptionCode::parse("VATEX-EU-132").unwrap()),
        };
        assert!(LineVat::new(VatCategory::Exempt, rate(dec!(0)), Some(coded)).is_ok());
        assert_eq!(
            LineVat::new(VatCategory::Standard, rate(dec!(0.2)), because("none"))
                .unwrap_err()
                .0,
            VatPart::Exemption
        );
    }

    #[test]
    fn only_codes_of_the_vatex_list_are_taken() {
        assert_eq!(
            ExemptionCode::parse("VATEX-EU-IC").unwrap().as_str(),
            "VATEX-EU-IC"
        );
        assert!(ExemptionCode::parse("vatex-eu-ic").is_err());
        assert!(ExemptionCode::parse("VATEX-EU-999").is_err());
    }

    #[test]
    fn a_default_rate_is_standard_unless_it_is_zero() {
        let standard = LineVat::standard(TaxRate::parse(dec!(0.190)).unwrap());
        assert_eq!(standard.category(), VatCategory::Standard);
        assert_eq!(standard.rate().to_string(), "0.19");
        let zero = LineVat::standard(TaxRate::parse(dec!(0)).unwrap());
        assert_eq!(zero.category(), VatCategory::ZeroRated);
    }
}
