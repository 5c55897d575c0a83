//! Why an invoice or a credit memo has no e-invoice: it is not issued yet, the seller or the
//! buyer lacks what EN 16931 requires of them, or its taxes are not VAT that EN 16931 can
//! state. Never an invalid document instead.

use std::fmt;

use rust_decimal::Decimal;

use crate::domain::vat::VatCategory;

/// Why there is no e-invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The invoice or credit memo asked for.
    pub document: String,
    /// Why.
    pub reason: Reason,
}

/// The reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A draft is not an invoice yet (nor is one abandoned before it was issued).
    Draft,
    /// A voided invoice bills nothing, a voided credit memo credits nothing.
    Voided,
    /// Business terms the standard requires are unset, each named.
    Incomplete(Vec<LegalTerm>),
    /// The taxes cannot be stated as EN 16931 VAT.
    Inexpressible(Inexpressible),
}

/// A business term a legal e-invoice requires and the data lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegalTerm {
    /// BT-27: the seller's name.
    SellerName,
    /// BT-40: the seller's country.
    SellerCountry,
    /// BT-31: the seller's VAT identifier, required by every category but `O`.
    SellerVatId,
    /// BT-31 as the invoice's `eu-vat` tax number gives it, without its country prefix.
    SellerVatIdMalformed,
    /// BT-30: the seller's legal registration, which identifies it when no VAT id may
    /// (BR-CO-26, an invoice outside the scope of VAT).
    SellerRegistration,
    /// BT-44: the buyer's name.
    BuyerName,
    /// BT-55: the buyer's country.
    BuyerCountry,
    /// BT-48: the buyer's VAT identifier, required by reverse charge and intra-community
    /// supply.
    BuyerVatId,
    /// BT-48 as the invoice's `eu-vat` tax number gives it, without its country prefix.
    BuyerVatIdMalformed,
    /// BT-80: the country delivered to, required by an intra-community supply.
    DeliveryCountry,
    /// BG-14: the period invoiced, required by an intra-community supply (the items' periods).
    InvoicePeriod,
}

impl LegalTerm {
    /// The term, as EN 16931 names it.
    pub fn words(self) -> &'static str {
        match self {
            Self::SellerName => "the seller's name (BT-27)",
            Self::SellerCountry => "the seller's country (BT-40)",
            Self::SellerVatId => "the seller's VAT identifier (BT-31)",
            Self::SellerVatIdMalformed => {
                "a seller's VAT identifier with its country prefix (BT-31, BR-CO-09)"
            }
            Self::SellerRegistration => "the seller's legal registration (BT-30, BR-CO-26)",
            Self::BuyerName => "the buyer's name (BT-44)",
            Self::BuyerCountry => "the buyer's country (BT-55)",
            Self::BuyerVatId => "the buyer's VAT identifier (BT-48)",
            Self::BuyerVatIdMalformed => {
                "a buyer's VAT identifier with its country prefix (BT-48, BR-CO-09)"
            }
            Self::DeliveryCountry => "the country delivered to (BT-80)",
            Self::InvoicePeriod => "the period invoiced (BG-14), from every item's period",
        }
    }
}

/// Taxes EN 16931 cannot state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inexpressible {
    /// The invoice is taxed by another calculator than VAT.
    NotVat {
        /// The calculator's name.
        calculator: &'static str,
    },
    /// An item carries a tax set by hand, outside every VAT category.
    ManualTax {
        /// The item.
        item: String,
    },
    /// A category's credits outweigh its debits: the VAT would be negative.
    CreditOutweighs {
        /// The category.
        category: VatCategory,
        /// Its rate.
        rate: Decimal,
    },
    /// Items of one category and rate give different exemption reasons; the breakdown has one.
    ExemptionsDiffer {
        /// The category.
        category: VatCategory,
    },
    /// Items outside the scope of VAT are with others: such an invoice must hold only them.
    OutsideScopeMixed,
    /// It has no item: an e-invoice has at least one line (BR-16).
    NoLines,
    /// A credit memo credits something in no VAT category: its shipping, or a line of no item.
    UncategorizedCredit {
        /// What, in words.
        what: String,
    },
    /// A credit memo's lines do not add up to its total.
    Unbalanced,
    /// A credit memo's VAT in a category, the sum of its lines' shares, is a unit or more
    /// from the rate applied to the category's taxable amount.
    RoundedApart {
        /// The category.
        category: VatCategory,
        /// Its rate.
        rate: Decimal,
    },
    /// The currency has more than the two decimals EN 16931 allows an amount.
    CurrencyTooPrecise {
        /// The currency's code.
        currency: &'static str,
    },
}

impl Refusal {
    /// Whether the document's state refuses it (409: issue it, complete the data), rather than
    /// what it says (406: no e-invoice can state it).
    pub fn is_conflict(&self) -> bool {
        !matches!(self.reason, Reason::Inexpressible(_))
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let document = &self.document;
        match &self.reason {
            Reason::Draft => write!(
                f,
                "{document} was never issued: a draft is not an invoice yet, so it has no e-invoice; issue it first."
            ),
            Reason::Voided => write!(
                f,
                "{document} is voided: it no longer bills or credits anything, so it has no e-invoice."
            ),
            Reason::Incomplete(terms) => {
                let terms: Vec<&str> = terms.iter().map(|term| term.words()).collect();
                write!(
                    f,
                    "{document} cannot be a legal e-invoice: it lacks {}.",
                    terms.join(", ")
                )
            }
            Reason::Inexpressible(why) => {
                write!(f, "{document} cannot be stated as EN 16931 VAT: ")?;
                match why {
                    Inexpressible::NotVat { calculator } => write!(
                        f,
                        "its taxes come from the {calculator} calculator; only the vat calculator's are VAT."
                    ),
                    Inexpressible::ManualTax { item } => write!(
                        f,
                        "item {item} carries a tax set by hand, in no VAT category."
                    ),
                    Inexpressible::CreditOutweighs { category, rate } => write!(
                        f,
                        "in category {} at {}%, credits outweigh debits; a credit memo states a negative balance.",
                        category.code(),
                        (rate * Decimal::ONE_HUNDRED).normalize()
                    ),
                    Inexpressible::ExemptionsDiffer { category } => write!(
                        f,
                        "its items of category {} give different exemption reasons, and the VAT breakdown states one.",
                        category.code()
                    ),
                    Inexpressible::OutsideScopeMixed => f.write_str(
                        "items outside the scope of VAT (category O) share it with other categories.",
                    ),
                    Inexpressible::NoLines => {
                        f.write_str("it has no item, and an e-invoice has at least one line.")
                    }
                    Inexpressible::UncategorizedCredit { what } => write!(
                        f,
                        "it credits {what} in no VAT category."
                    ),
                    Inexpressible::Unbalanced => {
                        f.write_str("its lines do not add up to its total.")
                    }
                    Inexpressible::RoundedApart { category, rate } => write!(
                        f,
                        "in category {} at {}%, the VAT its lines give back is a unit or more from the rate applied to their sum.",
                        category.code(),
                        (rate * Decimal::ONE_HUNDRED).normalize()
                    ),
                    Inexpressible::CurrencyTooPrecise { currency } => write!(
                        f,
                        "{currency} has more decimals than the two EN 16931 allows an amount."
                    ),
                }
            }
        }
    }
}
