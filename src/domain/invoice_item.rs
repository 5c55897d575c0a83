//! Invoice items: parsed request values and the stored item.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::currency::Currency;
use super::ids::{CustomerId, InvoiceId, InvoiceItemId, ProductId, SubscriptionId};
use super::kept_tax::KeptTax;
use super::metadata::{Metadata, MetadataChange, MetadataError};
use super::money::{MAX_EXTENDED_PRICE, decimal_places};
use super::spelling::spellings;
use super::tax::{ItemTax, ManualTax};
use super::text::BoundedText;
use super::vat::LineVat;

/// Whether an item charges (`debit`) or refunds (`credit`) the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemType {
    /// A charge: adds to the subtotal.
    Debit,
    /// A credit: its positive price is taken off the subtotal.
    Credit,
}

spellings! {
    ItemType {
        Debit => "debit",
        Credit => "credit",
    } else "must be one of: debit, credit"
}

/// An item description, at most 1000 characters.
pub type Description = BoundedText<1000>;

/// The largest unit price accepted.
pub const MAX_UNIT_PRICE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);
/// The most decimal places a unit price may carry (trailing zeros not counted).
pub const MAX_UNIT_PRICE_PLACES: u32 = 12;
/// The largest quantity accepted.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// A unit price: 0 <= x <= 1,000,000,000, at most 12 decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitPrice(Decimal);

impl UnitPrice {
    /// Checks the range and the decimal places.
    pub fn parse(value: Decimal) -> Result<Self, String> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err("must be at least 0".to_owned());
        }
        if value > MAX_UNIT_PRICE {
            return Err("must be at most 1000000000".to_owned());
        }
        if decimal_places(value) > MAX_UNIT_PRICE_PLACES {
            return Err("must have at most 12 decimal places".to_owned());
        }
        Ok(Self(value.normalize()))
    }

    /// The amount.
    pub fn amount(self) -> Decimal {
        self.0
    }
}

/// A quantity: a whole number 0 <= q <= 1,000,000,000 (Rebilly sets no minimum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(i64);

impl Quantity {
    /// The quantity when the request leaves it out.
    pub const DEFAULT: Self = Self(1);

    /// Checks the range.
    pub fn parse(value: i64) -> Result<Self, String> {
        if (0..=MAX_QUANTITY).contains(&value) {
            Ok(Self(value))
        } else {
            Err(format!("must be between 0 and {MAX_QUANTITY}"))
        }
    }

    /// The count.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// A billing period number, 0 <= n <= 2,147,483,647.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodNumber(i32);

impl PeriodNumber {
    /// Checks the range.
    pub fn parse(value: i64) -> Result<Self, String> {
        i32::try_from(value)
            .ok()
            .filter(|n| *n >= 0)
            .map(Self)
            .ok_or_else(|| format!("must be between 0 and {}", i32::MAX))
    }

    /// The number.
    pub fn get(self) -> i32 {
        self.0
    }
}

/// What an item carries beyond Rebilly's fields (the Stripe-style dialect's `metadata`,
/// `subscription` and `date`). Every item has them, whichever dialect wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemExtras {
    /// The client's key-value pairs.
    pub metadata: Metadata,
    /// The subscription it was accrued for, if any.
    pub subscription_id: Option<SubscriptionId>,
    /// The date it is billed as, when not its creation time.
    pub date: Option<DateTime<Utc>>,
}

/// An item as a client asks for it (the body of POST and of PUT, which replaces the whole item).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemInput {
    /// Debit or credit.
    pub item_type: ItemType,
    /// Free text, if any.
    pub description: Option<Description>,
    /// Price of one unit.
    pub unit_price: UnitPrice,
    /// Number of units.
    pub quantity: Quantity,
    /// The product billed, if any.
    pub product_id: Option<ProductId>,
    /// Start of the billed period.
    pub period_start_time: Option<DateTime<Utc>>,
    /// End of the billed period, never before its start.
    pub period_end_time: Option<DateTime<Utc>>,
    /// Billing period number.
    pub period_number: Option<PeriodNumber>,
    /// Tax set by hand.
    pub tax: Option<ManualTax>,
    /// Its own VAT category and rate, under the invoice's VAT calculator; `None` takes the
    /// invoice's default rate.
    pub vat: Option<LineVat>,
    /// The extras; `None` keeps those stored (none, for a new item): a dialect that does not
    /// speak of them leaves them as they are.
    pub extras: Option<ItemExtras>,
}

/// A partial change of an item, as a dialect that updates only the fields it is given (the
/// Stripe-style one) asks for it: its figures, and for every other field `None` to keep it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemPatch {
    /// Debit or credit.
    pub item_type: ItemType,
    /// Price of one unit.
    pub unit_price: UnitPrice,
    /// Number of units.
    pub quantity: Quantity,
    /// The description; `Some(None)` clears it.
    pub description: Option<Option<Description>>,
    /// The product; `Some(None)` clears it.
    pub product_id: Option<Option<ProductId>>,
    /// The billed period, start and end; `Some(None)` clears it.
    pub period: Option<Option<(DateTime<Utc>, DateTime<Utc>)>>,
    /// What becomes of the metadata.
    pub metadata: Option<MetadataChange>,
    /// The subscription it was accrued for.
    pub subscription_id: Option<SubscriptionId>,
    /// The date it is billed as.
    pub date: Option<DateTime<Utc>>,
}

impl ItemInput {
    /// The item `current` (`None`: a new one) with `patch` applied. A field the patch does not
    /// give is kept, and so is the manual tax; a new period leaves the period number unset (it
    /// named the period the item had).
    pub fn patched(current: Option<Self>, patch: ItemPatch) -> Result<Self, MetadataError> {
        let extras = current
            .as_ref()
            .and_then(|input| input.extras.clone())
            .unwrap_or_default();
        let metadata = match patch.metadata {
            None => extras.metadata,
            Some(change) => extras.metadata.changed(change)?,
        };
        let (period_start_time, period_end_time) = match patch.period {
            Some(Some((start, end))) => (Some(start), Some(end)),
            Some(None) => (None, None),
            None => current.as_ref().map_or((None, None), |input| {
                (input.period_start_time, input.period_end_time)
            }),
        };
        let period_number = match patch.period {
            Some(_) => None,
            None => current.as_ref().and_then(|input| input.period_number),
        };
        Ok(Self {
            item_type: patch.item_type,
            description: match patch.description {
                Some(description) => description,
                None => current.as_ref().and_then(|input| input.description.clone()),
            },
            unit_price: patch.unit_price,
            quantity: patch.quantity,
            product_id: match patch.product_id {
                Some(product) => product,
                None => current.as_ref().and_then(|input| input.product_id.clone()),
            },
            period_start_time,
            period_end_time,
            period_number,
            vat: current.as_ref().and_then(|input| input.vat.clone()),
            tax: current.and_then(|input| input.tax),
            extras: Some(ItemExtras {
                metadata,
                subscription_id: patch.subscription_id.or(extras.subscription_id),
                date: patch.date.or(extras.date),
            }),
        })
    }
}

/// Whether a period end comes before its start (422 on `periodEndTime`).
pub fn period_is_reversed(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> bool {
    matches!((start, end), (Some(start), Some(end)) if end < start)
}

/// Whether the unit price times the quantity is above [`MAX_EXTENDED_PRICE`] (refused on
/// the quantity).
pub fn extended_price_too_large(unit_price: UnitPrice, quantity: Quantity) -> bool {
    unit_price
        .amount()
        .checked_mul(Decimal::from(quantity.get()))
        .is_none_or(|total| total > MAX_EXTENDED_PRICE)
}

/// A stored invoice item.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceItem {
    /// Its id.
    pub id: InvoiceItemId,
    /// The invoice it belongs to.
    pub invoice_id: InvoiceId,
    /// Debit or credit.
    pub item_type: ItemType,
    /// Free text, if any.
    pub description: Option<Description>,
    /// Price of one unit.
    pub unit_price: UnitPrice,
    /// Number of units.
    pub quantity: Quantity,
    /// `round(unit price * quantity)` in the invoice currency.
    pub price: Decimal,
    /// The product billed, if any.
    pub product_id: Option<ProductId>,
    /// Discount allocated to this item.
    pub discount_amount: Decimal,
    /// Start of the billed period.
    pub period_start_time: Option<DateTime<Utc>>,
    /// End of the billed period.
    pub period_end_time: Option<DateTime<Utc>>,
    /// Billing period number.
    pub period_number: Option<PeriodNumber>,
    /// Its tax: set by hand, computed from the invoice's rates, or none.
    pub tax: Option<ItemTax>,
    /// Its own VAT category and rate, where it is not the invoice's default; used while the
    /// invoice's calculator is VAT.
    pub vat: Option<LineVat>,
    /// Its extras.
    pub extras: ItemExtras,
    /// 0 at creation, plus 1 per change, including moves caused by other changes.
    pub revision: i64,
    /// When it was created.
    pub created_time: DateTime<Utc>,
    /// When it last changed.
    pub updated_time: DateTime<Utc>,
}

/// What an invoice's pricing reads and sets of one of its items, with the item's version: all
/// that the write path holds of each item of an invoice whose items move together (a discount
/// or VAT shared among them), a fraction of the whole item's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemPricing {
    /// Its id.
    pub id: InvoiceItemId,
    /// Debit or credit.
    pub item_type: ItemType,
    /// Price of one unit.
    pub unit_price: UnitPrice,
    /// Number of units.
    pub quantity: Quantity,
    /// Its own VAT category and rate, where it has one.
    pub vat: Option<Box<LineVat>>,
    /// `round(unit price * quantity)` in the invoice currency.
    pub price: Decimal,
    /// Discount allocated to it.
    pub discount_amount: Decimal,
    /// Its tax: set by hand, computed from the invoice's rates, or none.
    pub tax: Option<KeptTax>,
    /// 0 at creation, plus 1 per change.
    pub revision: i64,
    /// When it last changed.
    pub updated_time: DateTime<Utc>,
}

impl ItemPricing {
    /// What pricing reads and sets of `item`.
    pub fn of(item: &InvoiceItem) -> Self {
        Self {
            id: item.id.clone(),
            item_type: item.item_type,
            unit_price: item.unit_price,
            quantity: item.quantity,
            vat: item.vat.clone().map(Box::new),
            price: item.price,
            discount_amount: item.discount_amount,
            tax: item.tax.as_ref().map(|tax| KeptTax::of(tax, &mut None)),
            revision: item.revision,
            updated_time: item.updated_time,
        }
    }

    /// Gives `item`, the whole item of the same id, these figures and this version.
    pub fn set_on(&self, item: &mut InvoiceItem) {
        item.price = self.price;
        item.discount_amount = self.discount_amount;
        item.tax = self.tax.as_ref().map(KeptTax::to_tax);
        item.revision = self.revision;
        item.updated_time = self.updated_time;
    }
}

/// An item on no invoice yet, billed to a customer in a currency: the next invoice made for
/// them with pending items included takes it in. It has no discount share and no tax, which
/// only an invoice gives.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingItem {
    /// Its id, kept when an invoice takes it in.
    pub id: InvoiceItemId,
    /// The customer billed.
    pub customer_id: CustomerId,
    /// The currency of its price.
    pub currency: Currency,
    /// Debit or credit.
    pub item_type: ItemType,
    /// Free text, if any.
    pub description: Option<Description>,
    /// Price of one unit.
    pub unit_price: UnitPrice,
    /// Number of units.
    pub quantity: Quantity,
    /// `round(unit price * quantity)` in its currency.
    pub price: Decimal,
    /// The product billed, if any.
    pub product_id: Option<ProductId>,
    /// Start of the billed period.
    pub period_start_time: Option<DateTime<Utc>>,
    /// End of the billed period.
    pub period_end_time: Option<DateTime<Utc>>,
    /// Its extras.
    pub extras: ItemExtras,
    /// 0 at creation, plus 1 per change.
    pub revision: i64,
    /// When it was created.
    pub created_time: DateTime<Utc>,
    /// When it last changed.
    pub updated_time: DateTime<Utc>,
}

/// An item wherever it is: on an invoice (with the customer and currency it has from there),
/// or pending.
#[derive(Debug, Clone, PartialEq)]
pub enum PlacedItem {
    /// On an invoice.
    OnInvoice {
        /// The item.
        item: Box<InvoiceItem>,
        /// The invoice's customer.
        customer_id: CustomerId,
        /// The invoice's currency.
        currency: Currency,
    },
    /// On no invoice yet.
    Pending(Box<PendingItem>),
}

impl PlacedItem {
    /// Its id.
    pub fn id(&self) -> &InvoiceItemId {
        match self {
            Self::OnInvoice { item, .. } => &item.id,
            Self::Pending(item) => &item.id,
        }
    }

    /// The currency of its price.
    pub fn currency(&self) -> Currency {
        match self {
            Self::OnInvoice { currency, .. } => *currency,
            Self::Pending(item) => item.currency,
        }
    }

    /// The input that would make it as it is, for a change to start from: a manual tax is
    /// kept, a computed one is left for pricing to compute again.
    pub fn as_input(&self) -> ItemInput {
        match self {
            Self::OnInvoice { item, .. } => ItemInput {
                item_type: item.item_type,
                description: item.description.clone(),
                unit_price: item.unit_price,
                quantity: item.quantity,
                product_id: item.product_id.clone(),
                period_start_time: item.period_start_time,
                period_end_time: item.period_end_time,
                period_number: item.period_number,
                tax: match &item.tax {
                    Some(super::tax::ItemTax::Manual(tax)) => Some(tax.clone()),
                    _ => None,
                },
                vat: item.vat.clone(),
                extras: Some(item.extras.clone()),
            },
            Self::Pending(item) => item.as_input(),
        }
    }
}

impl PendingItem {
    /// The input that would make it as it is.
    pub fn as_input(&self) -> ItemInput {
        ItemInput {
            item_type: self.item_type,
            description: self.description.clone(),
            unit_price: self.unit_price,
            quantity: self.quantity,
            product_id: self.product_id.clone(),
            period_start_time: self.period_start_time,
            period_end_time: self.period_end_time,
            period_number: None,
            tax: None,
            vat: None,
            extras: Some(self.extras.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn the_extended_price_limit_is_one_trillion() {
        assert_eq!(MAX_EXTENDED_PRICE, dec!(1000000000000));
    }

    #[test]
    fn unit_prices_are_checked_for_range_and_places() {
        assert!(UnitPrice::parse(dec!(0)).is_ok());
        assert!(UnitPrice::parse(dec!(1000000000)).is_ok());
        assert!(UnitPrice::parse(dec!(0.123456789012)).is_ok());
        assert!(
            UnitPrice::parse(dec!(1.5000000000000000)).is_ok(),
            "trailing zeros are not counted"
        );
        assert_eq!(
            UnitPrice::parse(dec!(-0.01)),
            Err("must be at least 0".to_owned())
        );
        assert_eq!(
            UnitPrice::parse(dec!(1000000000.01)),
            Err("must be at most 1000000000".to_owned())
        );
        assert_eq!(
            UnitPrice::parse(dec!(0.1234567890123)),
            Err("must have at most 12 decimal places".to_owned())
        );
    }

    #[test]
    fn quantities_and_period_numbers_are_bounded() {
        assert!(Quantity::parse(0).is_ok());
        assert!(Quantity::parse(1_000_000_000).is_ok());
        assert!(Quantity::parse(-1).is_err());
        assert!(Quantity::parse(1_000_000_001).is_err());
        assert!(PeriodNumber::parse(0).is_ok());
        assert!(PeriodNumber::parse(-1).is_err());
        assert!(PeriodNumber::parse(i64::from(i32::MAX) + 1).is_err());
    }

    #[test]
    fn texts_are_counted_in_characters() {
        assert!(Description::parse("é".repeat(1000)).is_ok());
        assert!(Description::parse("é".repeat(1001)).is_err());
    }

    #[test]
    fn extended_price_is_checked_without_overflow() {
        let big = UnitPrice::parse(dec!(1000000000)).unwrap();
        assert!(!extended_price_too_large(
            big,
            Quantity::parse(1000).unwrap()
        ));
        assert!(extended_price_too_large(
            big,
            Quantity::parse(1001).unwrap()
        ));
        let fine = UnitPrice::parse(dec!(999999999.123456789012)).unwrap();
        assert!(extended_price_too_large(
            fine,
            Quantity::parse(1_000_000_000).unwrap()
        ));
    }
}
