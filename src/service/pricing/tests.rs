//! Worked examples checked by hand, and properties over random invoices.

use std::cmp::Reverse;
use std::collections::HashMap;

use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal_macros::dec;

use super::*;
use crate::domain::discount::DiscountKind;
use crate::domain::money::decimal_places;
use crate::domain::tax::{ComputedTax, JurisdictionName, Jurisdictions, TaxRate, TaxRates};
use crate::domain::tax::{TaxAmount, TaxDescription};

fn currency(code: &str) -> Currency {
    Currency::parse(code).unwrap()
}

fn item(id: &str, item_type: ItemType, unit_price: Decimal, quantity: i64) -> ItemToPrice<'static> {
    ItemToPrice {
        id: leak(InvoiceItemId::parse(id).unwrap()),
        item_type,
        unit_price: UnitPrice::parse(unit_price).unwrap(),
        quantity: Quantity::parse(quantity).unwrap(),
        manual_tax: None,
        vat: None,
    }
}

/// A value that lives as long as the test's items borrow it.
fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

fn debit(id: &str, unit_price: Decimal) -> ItemToPrice<'static> {
    item(id, ItemType::Debit, unit_price, 1)
}

fn credit(id: &str, unit_price: Decimal) -> ItemToPrice<'static> {
    item(id, ItemType::Credit, unit_price, 1)
}

fn manual_tax(amount: Decimal) -> ManualTax {
    ManualTax::new(
        TaxAmount::parse(amount).unwrap(),
        TaxDescription::parse("VAT".to_owned()).unwrap(),
    )
}

fn percent(value: Decimal) -> Discount {
    Discount::new(None, DiscountKind::Percent, value, 2).unwrap()
}

fn fixed(value: Decimal, currency: Currency) -> Discount {
    Discount::new(None, DiscountKind::Fixed, value, currency.minor_units()).unwrap()
}

/// A fixed discount of so many of the smallest units of a currency with `places` decimals.
fn fixed_units(units: i64, places: u32) -> Discount {
    Discount::new(
        None,
        DiscountKind::Fixed,
        Decimal::new(units, places),
        places,
    )
    .unwrap()
}

fn rates(state: Decimal, county: Decimal, city: Decimal, special_district: Decimal) -> TaxRates {
    TaxRates {
        state: TaxRate::parse(state).unwrap(),
        county: TaxRate::parse(county).unwrap(),
        city: TaxRate::parse(city).unwrap(),
        special_district: TaxRate::parse(special_district).unwrap(),
        jurisdictions: None,
    }
}

fn shares(invoice: &PricedInvoice) -> Vec<Decimal> {
    invoice
        .items
        .iter()
        .map(|item| item.discount_amount)
        .collect()
}

fn computed(item: &PricedItem) -> &ComputedTax {
    match &item.tax {
        Some(ItemTax::Computed(tax)) => tax,
        other => panic!("expected a computed tax, got {other:?}"),
    }
}

/// The four component amounts of a computed tax, then its amount.
fn tax_figures(item: &PricedItem) -> [Decimal; 5] {
    let tax = computed(item);
    [
        tax.state.amount,
        tax.county.amount,
        tax.city.amount,
        tax.special_district.amount,
        tax.amount,
    ]
}

fn totals(subtotal: Decimal, discount: Decimal, tax: Decimal, amount: Decimal) -> InvoiceTotals {
    InvoiceTotals {
        subtotal_amount: subtotal,
        discount_amount: discount,
        tax_amount: tax,
        amount,
        amount_due: amount,
    }
}

fn price(unit_price: Decimal, quantity: i64, code: &str) -> Decimal {
    item_price(
        UnitPrice::parse(unit_price).unwrap(),
        Quantity::parse(quantity).unwrap(),
        currency(code),
    )
}

#[test]
fn prices_are_exact_and_rounded_to_the_currency() {
    assert_eq!(price(dec!(0.1), 3, "USD"), dec!(0.3));
    assert_eq!(price(dec!(19.99), 3, "USD"), dec!(59.97));
    assert_eq!(
        price(dec!(0.005), 1, "USD"),
        dec!(0.01),
        "half away from zero"
    );
    assert_eq!(price(dec!(0.0049), 1, "USD"), dec!(0));
    assert_eq!(price(dec!(100.5), 1, "JPY"), dec!(101));
    assert_eq!(price(dec!(1.0005), 1, "BHD"), dec!(1.001));
    assert_eq!(price(dec!(1000000000), 1000, "USD"), dec!(1000000000000));
    assert_eq!(price(dec!(5), 0, "USD"), dec!(0));
}

#[test]
fn a_ten_percent_discount_is_shared_by_largest_remainder() {
    // Debit total 30.01; 10% of it is 3.001, rounded to 3.00: D = 300 cents, P = 3001 cents.
    // Exact shares D * p / P: 300 * 1000 / 3001 = 99.9667 (floor 99, remainder 2901/3001)
    // twice, and 300 * 1001 / 3001 = 100.0667 (floor 100, remainder 200/3001). The floors
    // sum to 298, so 2 cents are left over: they go to the two largest remainders, the two
    // 10.00 items, not to the larger price 10.01. Shares: 1.00, 1.00, 1.00.
    let usd = currency("USD");
    let invoice = price_invoice(
        usd,
        &[percent(dec!(10))],
        &TaxSettings::Manual,
        &[
            debit("ii_1", dec!(10.00)),
            debit("ii_2", dec!(10.00)),
            debit("ii_3", dec!(10.01)),
        ],
    );
    assert_eq!(invoice.discount_amounts, [dec!(3)]);
    assert_eq!(shares(&invoice), [dec!(1), dec!(1), dec!(1)]);
    assert!(invoice.items.iter().all(|item| item.tax.is_none()));
    assert_eq!(
        invoice.totals,
        totals(dec!(30.01), dec!(3), dec!(0), dec!(27.01))
    );
}

#[test]
fn a_leftover_unit_with_tied_remainders_goes_to_the_larger_price_then_the_smaller_id() {
    let usd = currency("USD");
    // Fixed 0.02 over 1.00 and 3.00: D = 2, P = 400 cents. 2 * 100 / 400 = 0.5 (floor 0,
    // remainder 200) and 2 * 300 / 400 = 1.5 (floor 1, remainder 200). One cent is left over
    // and the remainders tie, so the larger price takes it, although its id is the larger.
    let by_price = price_invoice(
        usd,
        &[fixed(dec!(0.02), usd)],
        &TaxSettings::Manual,
        &[debit("ii_a", dec!(1.00)), debit("ii_b", dec!(3.00))],
    );
    assert_eq!(shares(&by_price), [dec!(0), dec!(0.02)]);

    // Fixed 0.01 over three items of 2.00: each exact share is 1 * 200 / 600 = 0.33 cents
    // (floor 0, remainder 200). Remainders and prices tie: the smallest id takes the cent,
    // wherever it stands in the input.
    let by_id = price_invoice(
        usd,
        &[fixed(dec!(0.01), usd)],
        &TaxSettings::Manual,
        &[
            debit("ii_3", dec!(2)),
            debit("ii_1", dec!(2)),
            debit("ii_2", dec!(2)),
        ],
    );
    assert_eq!(shares(&by_id), [dec!(0), dec!(0.01), dec!(0)]);
    assert_eq!(by_id.totals.amount, dec!(5.99));
}

#[test]
fn four_tax_components_are_rounded_one_by_one_on_the_discounted_price() {
    // Debit total 19.99 + 10.01 = 30.00; 10% is 3.00: D = 300, P = 3000 cents.
    // 300 * 1999 / 3000 = 199.9 (floor 199, remainder 2700); 300 * 1001 / 3000 = 100.1
    // (floor 100, remainder 300). One cent left over goes to 19.99: shares 2.00 and 1.00.
    // Taxable: 17.99 and 9.01. Components (half away from zero, to cents):
    //   17.99: state 0.0625 -> 1.124375 -> 1.12; county 0.01 -> 0.1799 -> 0.18;
    //          city 0.005 -> 0.08995 -> 0.09; special 0.0025 -> 0.044975 -> 0.04; sum 1.43
    //          (17.99 * 0.08 = 1.4392 would give 1.44: the rounded components decide).
    //   9.01:  state 0.563125 -> 0.56; county 0.0901 -> 0.09; city 0.04505 -> 0.05;
    //          special 0.022525 -> 0.02; sum 0.72.
    // Totals: subtotal 30.00, discount 3.00, tax 2.15, amount 29.15.
    let usd = currency("USD");
    let jurisdictions = Jurisdictions {
        country: Some(JurisdictionName::parse("US".to_owned()).unwrap()),
        state: Some(JurisdictionName::parse("CA".to_owned()).unwrap()),
        county: None,
        city: None,
    };
    let tax = TaxSettings::Rates(TaxRates {
        jurisdictions: Some(jurisdictions.clone()),
        ..rates(dec!(0.0625), dec!(0.01), dec!(0.005), dec!(0.0025))
    });
    let invoice = price_invoice(
        usd,
        &[percent(dec!(10))],
        &tax,
        &[debit("ii_a", dec!(19.99)), debit("ii_b", dec!(10.01))],
    );
    assert_eq!(shares(&invoice), [dec!(2), dec!(1)]);
    assert_eq!(
        tax_figures(&invoice.items[0]),
        [dec!(1.12), dec!(0.18), dec!(0.09), dec!(0.04), dec!(1.43)]
    );
    assert_eq!(
        tax_figures(&invoice.items[1]),
        [dec!(0.56), dec!(0.09), dec!(0.05), dec!(0.02), dec!(0.72)]
    );
    let first = computed(&invoice.items[0]);
    assert_eq!(first.rate, dec!(0.08));
    assert_eq!(
        [
            first.state.rate,
            first.county.rate,
            first.city.rate,
            first.special_district.rate
        ],
        [dec!(0.0625), dec!(0.01), dec!(0.005), dec!(0.0025)]
    );
    assert_eq!(first.jurisdictions, Some(jurisdictions));
    assert_eq!(
        invoice.totals,
        totals(dec!(30), dec!(3), dec!(2.15), dec!(29.15))
    );
}

#[test]
fn a_yen_invoice_rounds_everything_to_whole_yen() {
    // Prices: 1000 * 3 = 3000; 554.5 * 1 rounds half away from zero to 555. P = 3555.
    // 15% of 3555 = 533.25 -> 533. Shares: 533 * 3000 / 3555 = 449.79 (floor 449, remainder
    // 2805); 533 * 555 / 3555 = 83.21 (floor 83, remainder 750). One yen left over goes to the
    // larger remainder: shares 450 and 83. Taxable 2550 and 472.
    //   2550: state 0.078 -> 198.9 -> 199; city 0.022 -> 56.1 -> 56; tax 255.
    //   472:  state 0.078 -> 36.816 -> 37; city 0.022 -> 10.384 -> 10; tax 47.
    // Totals: subtotal 3555, discount 533, tax 302, amount 3555 - 533 + 302 = 3324.
    let jpy = currency("JPY");
    let tax = TaxSettings::Rates(rates(dec!(0.078), dec!(0), dec!(0.022), dec!(0)));
    let invoice = price_invoice(
        jpy,
        &[percent(dec!(15))],
        &tax,
        &[
            item("ii_a", ItemType::Debit, dec!(1000), 3),
            debit("ii_b", dec!(554.5)),
        ],
    );
    assert_eq!(invoice.items[1].price, dec!(555));
    assert_eq!(invoice.discount_amounts, [dec!(533)]);
    assert_eq!(shares(&invoice), [dec!(450), dec!(83)]);
    assert_eq!(
        tax_figures(&invoice.items[0]),
        [dec!(199), dec!(0), dec!(56), dec!(0), dec!(255)]
    );
    assert_eq!(
        tax_figures(&invoice.items[1]),
        [dec!(37), dec!(0), dec!(10), dec!(0), dec!(47)]
    );
    assert_eq!(
        invoice.totals,
        totals(dec!(3555), dec!(533), dec!(302), dec!(3324))
    );
}

#[test]
fn credits_larger_than_debits_make_a_negative_invoice_and_take_no_discount_or_tax() {
    // Discount 10% of the debit total 10.00 (not of the subtotal -15.00): 1.00, all on the
    // debit. Its tax: (10.00 - 1.00) * 0.05 = 0.45. The credit keeps no tax, though it has a
    // manual one. Totals: subtotal 10.00 - 25.00 = -15.00; amount -15.00 - 1.00 + 0.45.
    let usd = currency("USD");
    let mut refund = credit("ii_c", dec!(25));
    refund.manual_tax = Some(leak(manual_tax(dec!(2))));
    let invoice = price_invoice(
        usd,
        &[percent(dec!(10))],
        &TaxSettings::Rates(rates(dec!(0.05), dec!(0), dec!(0), dec!(0))),
        &[debit("ii_d", dec!(10)), refund],
    );
    assert_eq!(invoice.discount_amounts, [dec!(1)]);
    assert_eq!(shares(&invoice), [dec!(1), dec!(0)]);
    assert_eq!(computed(&invoice.items[0]).amount, dec!(0.45));
    assert_eq!(invoice.items[1].price, dec!(25));
    assert_eq!(invoice.items[1].tax, None);
    assert_eq!(
        invoice.totals,
        totals(dec!(-15), dec!(1), dec!(0.45), dec!(-15.55))
    );
}

#[test]
fn a_fixed_discount_larger_than_the_debits_is_capped_at_them() {
    // Fixed 50 over a debit total of 30.00: capped at 30.00, leaving nothing for the 10%
    // after it (0). The debit's taxable amount is 0, so every component is 0.
    // Totals: subtotal 30 - 5 = 25, discount 30, amount -5.
    let usd = currency("USD");
    let invoice = price_invoice(
        usd,
        &[fixed(dec!(50), usd), percent(dec!(10))],
        &TaxSettings::Rates(rates(dec!(0.0625), dec!(0.01), dec!(0), dec!(0))),
        &[debit("ii_d", dec!(30)), credit("ii_c", dec!(5))],
    );
    assert_eq!(invoice.discount_amounts, [dec!(30), dec!(0)]);
    assert_eq!(shares(&invoice), [dec!(30), dec!(0)]);
    assert_eq!(tax_figures(&invoice.items[0]), [Decimal::ZERO; 5]);
    assert_eq!(
        invoice.totals,
        totals(dec!(25), dec!(30), dec!(0), dec!(-5))
    );
}

#[test]
fn discounts_apply_in_order_to_what_remains() {
    let usd = currency("USD");
    let items = [debit("ii_a", dec!(40)), debit("ii_b", dec!(10))];
    // 10% of 50.00 = 5.00, leaving 45.00; then fixed 5.00, leaving 40.00. D = 10.00, shared
    // exactly: 10 * 40 / 50 = 8.00 and 10 * 10 / 50 = 2.00.
    let percent_first = price_invoice(
        usd,
        &[percent(dec!(10)), fixed(dec!(5), usd)],
        &TaxSettings::Manual,
        &items,
    );
    assert_eq!(percent_first.discount_amounts, [dec!(5), dec!(5)]);
    assert_eq!(shares(&percent_first), [dec!(8), dec!(2)]);
    assert_eq!(
        percent_first.totals,
        totals(dec!(50), dec!(10), dec!(0), dec!(40))
    );
    // Fixed 5.00 first leaves 45.00, of which 10% is 4.50. D = 9.50: 7.60 and 1.90.
    let fixed_first = price_invoice(
        usd,
        &[fixed(dec!(5), usd), percent(dec!(10))],
        &TaxSettings::Manual,
        &items,
    );
    assert_eq!(fixed_first.discount_amounts, [dec!(5), dec!(4.5)]);
    assert_eq!(shares(&fixed_first), [dec!(7.6), dec!(1.9)]);
    assert_eq!(
        fixed_first.totals,
        totals(dec!(50), dec!(9.5), dec!(0), dec!(40.5))
    );
}

#[test]
fn manual_taxes_are_kept_and_the_manual_calculator_computes_none() {
    let usd = currency("USD");
    let mut taxed = debit("ii_m", dec!(10));
    taxed.manual_tax = Some(leak(manual_tax(dec!(0.7))));
    let items = [taxed, debit("ii_n", dec!(10))];
    let with_rates = price_invoice(
        usd,
        &[],
        &TaxSettings::Rates(rates(dec!(0.1), dec!(0), dec!(0), dec!(0))),
        &items,
    );
    assert_eq!(
        with_rates.items[0].tax,
        Some(ItemTax::Manual(manual_tax(dec!(0.7))))
    );
    assert_eq!(computed(&with_rates.items[1]).amount, dec!(1));
    assert_eq!(with_rates.totals.tax_amount, dec!(1.7));
    let manual = price_invoice(usd, &[], &TaxSettings::Manual, &items);
    assert_eq!(manual.items[0].tax, with_rates.items[0].tax);
    assert_eq!(manual.items[1].tax, None);
    assert_eq!(manual.totals.amount, dec!(20.7));
}

#[test]
fn an_empty_invoice_totals_zero_and_never_minus_zero() {
    let invoice = price_invoice(
        currency("USD"),
        &[percent(dec!(10))],
        &TaxSettings::Manual,
        &[],
    );
    assert_eq!(invoice.discount_amounts, [dec!(0)]);
    assert_eq!(invoice.totals, InvoiceTotals::default());
    assert!(!invoice.totals.amount.is_sign_negative());
    let removed = price_undiscounted_item(
        currency("USD"),
        &TaxSettings::Manual,
        &debit("ii_a", dec!(1.50)),
    );
    let after = totals_after_change(
        totals(dec!(1.5), dec!(0), dec!(0), dec!(1.5)),
        Some((ItemType::Debit, &removed)),
        None,
    );
    assert_eq!(after, InvoiceTotals::default());
    assert!(!after.subtotal_amount.is_sign_negative());
    assert!(!after.amount.is_sign_negative());
}

#[test]
fn credits_reduce_the_subtotal_and_may_make_it_negative() {
    let usd = currency("USD");
    let mut taxed = debit("ii_d", dec!(10));
    taxed.manual_tax = Some(leak(manual_tax(dec!(1.5))));
    let taxed = price_undiscounted_item(usd, &TaxSettings::Manual, &taxed);
    let refund = price_undiscounted_item(usd, &TaxSettings::Manual, &credit("ii_c", dec!(25.25)));
    let totals = [(ItemType::Debit, &taxed), (ItemType::Credit, &refund)]
        .into_iter()
        .fold(InvoiceTotals::default(), |totals, item| {
            totals_after_change(totals, None, Some(item))
        });
    assert_eq!(totals.subtotal_amount, dec!(-15.25));
    assert_eq!(totals.tax_amount, dec!(1.5));
    assert_eq!(totals.amount, dec!(-13.75));
    assert_eq!(totals.amount_due, dec!(-13.75));
}

// Random invoices in USD (2 decimals), JPY (0) and BHD (3).

#[derive(Debug, Clone)]
struct Case {
    currency: Currency,
    discounts: Vec<Discount>,
    tax: TaxSettings,
    items: Vec<ItemToPrice<'static>>,
}

fn amount(places: u32, max_units: i64) -> impl Strategy<Value = Decimal> {
    (0..=max_units).prop_map(move |units| Decimal::new(units, places))
}

fn random_item(places: u32) -> impl Strategy<Value = RawItem> {
    let item_type = prop_oneof![3 => Just(ItemType::Debit), 1 => Just(ItemType::Credit)];
    let unit_price = prop_oneof![
        // A few small prices, so that remainders and prices tie.
        2 => prop::sample::select(vec![1i64, 2, 3, 100]).prop_map(move |units| Decimal::new(units, places)),
        1 => amount(places, 5),
        1 => amount(places, 100_000_000),
        // More decimals than the currency: the price is rounded.
        1 => amount(places + 2, 10_000_000_000),
    ];
    let quantity = prop_oneof![Just(1i64), 0i64..=1000];
    let manual = proptest::option::weighted(0.2, amount(places, 1_000_000));
    (item_type, unit_price, quantity, manual)
}

fn random_discount(places: u32) -> impl Strategy<Value = Discount> {
    prop_oneof![
        (1i64..=100).prop_map(|value| percent(Decimal::from(value))),
        (1i64..=1_000_000).prop_map(|value| percent(Decimal::new(value, 4))),
        // Small fixed amounts leave units over to share out.
        (1i64..=10).prop_map(move |units| fixed_units(units, places)),
        (1i64..=100_000_000).prop_map(move |units| fixed_units(units, places)),
    ]
}

fn random_rate() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        Just(Decimal::ZERO),
        Just(Decimal::ONE),
        (0i64..=200_000).prop_map(|micro| Decimal::new(micro, 6)),
    ]
}

fn random_tax() -> impl Strategy<Value = TaxSettings> {
    prop_oneof![
        1 => Just(TaxSettings::Manual),
        3 => (random_rate(), random_rate(), random_rate(), random_rate())
            .prop_map(|(state, county, city, special)| {
                TaxSettings::Rates(rates(state, county, city, special))
            }),
        2 => random_rate().prop_map(|rate| TaxSettings::Vat(TaxRate::parse(rate).unwrap())),
    ]
}

/// The item fields pricing reads, before an id is given.
type RawItem = (ItemType, Decimal, i64, Option<Decimal>);

/// Items with small prices and discounts of a few units: remainders and prices tie often,
/// which the tie-breaks need (a random invoice seldom has ties).
fn tied_item(places: u32) -> impl Strategy<Value = RawItem> {
    let item_type = prop_oneof![4 => Just(ItemType::Debit), 1 => Just(ItemType::Credit)];
    let unit_price = prop::sample::select(vec![1i64, 2, 3, 4, 6])
        .prop_map(move |units| Decimal::new(units, places));
    (item_type, unit_price, Just(1i64), Just(None))
}

fn tied_discount(places: u32) -> impl Strategy<Value = Discount> {
    (1i64..=20).prop_map(move |units| fixed_units(units, places))
}

fn random_case() -> impl Strategy<Value = Case> {
    prop_oneof![
        3 => case_of(|places| random_item(places).boxed(), |places| random_discount(places).boxed()),
        1 => case_of(|places| tied_item(places).boxed(), |places| tied_discount(places).boxed()),
    ]
}

fn case_of(
    raw_item: fn(u32) -> BoxedStrategy<RawItem>,
    discount: fn(u32) -> BoxedStrategy<Discount>,
) -> impl Strategy<Value = Case> {
    prop_oneof![Just("USD"), Just("JPY"), Just("BHD")].prop_flat_map(move |code| {
        let currency = currency(code);
        let places = currency.minor_units();
        let items = proptest::collection::vec(raw_item(places), 0..12).prop_flat_map(|items| {
            // Ids in an order unrelated to the input order, so the id tie-break is exercised.
            let ids: Vec<usize> = (0..items.len()).collect();
            (Just(items), Just(ids).prop_shuffle())
        });
        (
            proptest::collection::vec(discount(places), 0..4),
            random_tax(),
            items,
        )
            .prop_map(move |(discounts, tax, (items, ids))| Case {
                currency,
                discounts,
                tax,
                items: items
                    .into_iter()
                    .zip(ids)
                    .map(|((item_type, unit_price, quantity, manual), id)| {
                        let mut item =
                            item(&format!("ii_{id:02}"), item_type, unit_price, quantity);
                        item.manual_tax = manual.map(|amount| leak(manual_tax(amount)));
                        item
                    })
                    .collect(),
            })
    })
}

impl Case {
    fn price(&self) -> PricedInvoice {
        price_invoice(self.currency, &self.discounts, &self.tax, &self.items)
    }

    /// An amount in whole minor units, checking that it has no finer part.
    fn units(&self, amount: Decimal) -> i128 {
        let scaled = amount * Decimal::from(10i64.pow(self.currency.minor_units()));
        assert_eq!(
            scaled.fract(),
            Decimal::ZERO,
            "{amount} has a part below the minor unit"
        );
        scaled.to_i128().unwrap()
    }

    fn debit_total(&self, priced: &PricedInvoice) -> Decimal {
        self.items
            .iter()
            .zip(&priced.items)
            .filter(|(item, _)| item.item_type == ItemType::Debit)
            .map(|(_, priced)| priced.price)
            .sum()
    }
}

proptest! {
    #[test]
    fn item_discounts_sum_to_the_invoice_discount_and_stay_within_each_price(case in random_case()) {
        let priced = case.price();
        let shares: Decimal = priced.items.iter().map(|item| item.discount_amount).sum();
        let discounts: Decimal = priced.discount_amounts.iter().sum();
        prop_assert_eq!(shares, priced.totals.discount_amount);
        prop_assert_eq!(discounts, priced.totals.discount_amount);
        for (item, figures) in case.items.iter().zip(&priced.items) {
            prop_assert!(figures.discount_amount >= Decimal::ZERO);
            prop_assert!(figures.discount_amount <= figures.price);
            if item.item_type == ItemType::Credit {
                prop_assert_eq!(figures.discount_amount, Decimal::ZERO);
                prop_assert_eq!(&figures.tax, &None);
            }
        }
    }

    #[test]
    fn each_discount_takes_its_rounded_amount_capped_at_what_remains(case in random_case()) {
        let priced = case.price();
        prop_assert_eq!(priced.discount_amounts.len(), case.discounts.len());
        let places = case.currency.minor_units();
        let mut remaining = case.debit_total(&priced);
        for (discount, &applied) in case.discounts.iter().zip(&priced.discount_amounts) {
            // `Decimal` multiplies these small values exactly: a reference for the integers.
            let wanted = match discount.kind {
                DiscountKind::Percent => round_half_away_from_zero(
                    remaining * discount.value() / Decimal::ONE_HUNDRED,
                    places,
                ),
                DiscountKind::Fixed => discount.value(),
            };
            prop_assert_eq!(applied, wanted.min(remaining));
            prop_assert!(applied >= Decimal::ZERO && applied <= remaining);
            remaining -= applied;
        }
    }

    #[test]
    fn taxes_add_up_from_components_to_the_invoice(case in random_case()) {
        let priced = case.price();
        let places = case.currency.minor_units();
        for (item, figures) in case.items.iter().zip(&priced.items) {
            let expected_manual = item.manual_tax.map(|tax| ItemTax::Manual(tax.clone()));
            match (item.item_type, &case.tax, &figures.tax) {
                (ItemType::Credit, _, tax) => prop_assert_eq!(tax, &None),
                (ItemType::Debit, _, tax) if item.manual_tax.is_some() => {
                    prop_assert_eq!(tax, &expected_manual);
                }
                (ItemType::Debit, TaxSettings::Manual, tax) => prop_assert_eq!(tax, &None),
                (ItemType::Debit, TaxSettings::Rates(rates), tax) => {
                    let Some(ItemTax::Computed(tax)) = tax else {
                        return Err(TestCaseError::fail(format!("no computed tax: {tax:?}")));
                    };
                    let taxable = figures.price - figures.discount_amount;
                    let pairs = [
                        (rates.state, tax.state),
                        (rates.county, tax.county),
                        (rates.city, tax.city),
                        (rates.special_district, tax.special_district),
                    ];
                    for (rate, component) in pairs {
                        prop_assert_eq!(component.rate, rate.get());
                        prop_assert_eq!(
                            component.amount,
                            round_half_away_from_zero(taxable * rate.get(), places)
                        );
                    }
                    let components: Decimal = pairs.iter().map(|(_, component)| component.amount).sum();
                    prop_assert_eq!(tax.amount, components);
                    prop_assert_eq!(tax.rate, rates.total());
                    prop_assert_eq!(&tax.jurisdictions, &rates.jurisdictions);
                }
                (ItemType::Debit, TaxSettings::Vat(rate), tax) => {
                    let Some(ItemTax::Vat(share)) = tax else {
                        return Err(TestCaseError::fail(format!("no VAT share: {tax:?}")));
                    };
                    prop_assert_eq!(share.rate, rate.get());
                    prop_assert!(share.amount >= Decimal::ZERO);
                    prop_assert!(share.amount <= figures.price - figures.discount_amount);
                }
            }
        }
        if let TaxSettings::Vat(rate) = &case.tax {
            // One group: VAT once, on the sum of the amounts after discounts, credits taken off.
            let taxable: Decimal = case
                .items
                .iter()
                .zip(&priced.items)
                .filter(|(item, _)| item.item_type == ItemType::Credit || item.manual_tax.is_none())
                .map(|(item, figures)| match item.item_type {
                    ItemType::Debit => figures.price - figures.discount_amount,
                    ItemType::Credit => -figures.price,
                })
                .sum();
            let expected = round_half_away_from_zero(taxable.max(Decimal::ZERO) * rate.get(), places);
            let shares: Decimal = priced
                .items
                .iter()
                .filter_map(|item| match &item.tax {
                    Some(ItemTax::Vat(share)) => Some(share.amount),
                    _ => None,
                })
                .sum();
            prop_assert_eq!(shares, expected);
        }
        let item_taxes: Decimal = priced
            .items
            .iter()
            .filter_map(|item| item.tax.as_ref().map(ItemTax::amount))
            .sum();
        prop_assert_eq!(item_taxes, priced.totals.tax_amount);
    }

    #[test]
    fn totals_follow_their_formulas(case in random_case()) {
        let priced = case.price();
        let credits: Decimal = case
            .items
            .iter()
            .zip(&priced.items)
            .filter(|(item, _)| item.item_type == ItemType::Credit)
            .map(|(_, priced)| priced.price)
            .sum();
        let totals = priced.totals;
        prop_assert_eq!(totals.subtotal_amount, case.debit_total(&priced) - credits);
        prop_assert_eq!(
            totals.amount,
            totals.subtotal_amount - totals.discount_amount + totals.tax_amount
        );
        prop_assert_eq!(totals.amount_due, totals.amount);
        for (item, figures) in case.items.iter().zip(&priced.items) {
            prop_assert_eq!(figures.price, item_price(item.unit_price, item.quantity, case.currency));
        }
    }

    #[test]
    fn every_amount_has_at_most_the_currency_decimals_and_is_never_minus_zero(
        case in random_case()
    ) {
        let priced = case.price();
        let mut amounts = vec![
            priced.totals.subtotal_amount,
            priced.totals.discount_amount,
            priced.totals.tax_amount,
            priced.totals.amount,
            priced.totals.amount_due,
        ];
        amounts.extend(&priced.discount_amounts);
        for item in &priced.items {
            amounts.extend([item.price, item.discount_amount]);
            match &item.tax {
                Some(ItemTax::Computed(tax)) => amounts.extend([
                    tax.amount,
                    tax.state.amount,
                    tax.county.amount,
                    tax.city.amount,
                    tax.special_district.amount,
                ]),
                Some(ItemTax::Manual(tax)) => amounts.push(tax.amount()),
                Some(ItemTax::Vat(share)) => amounts.push(share.amount),
                None => {}
            }
        }
        for amount in amounts {
            prop_assert!(decimal_places(amount) <= case.currency.minor_units(), "{}", amount);
            prop_assert!(!(amount.is_zero() && amount.is_sign_negative()), "-0");
        }
    }

    #[test]
    fn results_do_not_depend_on_item_order(
        (case, order) in random_case().prop_flat_map(|case| {
            let order: Vec<usize> = (0..case.items.len()).collect();
            (Just(case), Just(order).prop_shuffle())
        })
    ) {
        let priced = case.price();
        let shuffled = Case {
            items: order.iter().map(|&index| case.items[index].clone()).collect(),
            ..case.clone()
        };
        let reordered = shuffled.price();
        prop_assert_eq!(&priced.totals, &reordered.totals);
        prop_assert_eq!(&priced.discount_amounts, &reordered.discount_amounts);
        let by_id: HashMap<&InvoiceItemId, &PricedItem> =
            shuffled.items.iter().map(|item| item.id).zip(&reordered.items).collect();
        for (item, figures) in case.items.iter().zip(&priced.items) {
            prop_assert_eq!(Some(&figures), by_id.get(item.id));
        }
    }

    #[test]
    fn each_share_is_within_one_unit_of_the_exact_proportional_share(case in random_case()) {
        // |share - D * p / P| < 1 unit, multiplied out by P so that nothing is divided:
        // |share * P - D * p| < P, in minor units.
        let priced = case.price();
        let total = case.units(priced.totals.discount_amount);
        let debit_total = case.units(case.debit_total(&priced));
        for (item, figures) in case.items.iter().zip(&priced.items) {
            if item.item_type == ItemType::Debit {
                let share = case.units(figures.discount_amount);
                let error = share * debit_total - total * case.units(figures.price);
                prop_assert!(error.abs() < debit_total || debit_total == 0, "{}", error);
            }
        }
    }

    #[test]
    fn rounded_up_shares_come_first_by_remainder_then_price_then_id(case in random_case()) {
        // Each debit's exact share D * p / P in minor units is a floor plus a remainder r / P.
        // The items given a leftover unit (share above the floor) must all come before the
        // others in the order (larger r, larger p, smaller id).
        let priced = case.price();
        let total = case.units(priced.totals.discount_amount);
        let debit_total = case.units(case.debit_total(&priced));
        let mut rounded_up = Vec::new();
        let mut rounded_down = Vec::new();
        for (item, figures) in case.items.iter().zip(&priced.items) {
            if item.item_type == ItemType::Credit || debit_total == 0 {
                continue;
            }
            let price = case.units(figures.price);
            let exact = total * price;
            let (floor, remainder) = (exact / debit_total, exact % debit_total);
            let key = (Reverse(remainder), Reverse(price), item.id.clone());
            let share = case.units(figures.discount_amount);
            prop_assert!(share == floor || share == floor + 1, "{} from {}", share, floor);
            if share > floor { rounded_up.push(key) } else { rounded_down.push(key) }
        }
        for up in &rounded_up {
            for down in &rounded_down {
                prop_assert!(up < down, "{:?} rounded up before {:?}", up, down);
            }
        }
    }

    #[test]
    fn incremental_totals_equal_the_whole_invoice_without_discounts(
        case in random_case(),
        removals in proptest::collection::vec(any::<proptest::sample::Index>(), 0..6),
    ) {
        // Only invoices whose items move alone are priced an item at a time.
        prop_assume!(!case.tax.couples_items());
        let price_all = |items: &[ItemToPrice]| {
            price_invoice(case.currency, &[], &case.tax, items)
        };
        let priced = price_all(&case.items);
        let mut totals = InvoiceTotals::default();
        for (item, figures) in case.items.iter().zip(&priced.items) {
            let alone = price_undiscounted_item(case.currency, &case.tax, item);
            prop_assert_eq!(&alone, figures);
            totals = totals_after_change(totals, None, Some((item.item_type, &alone)));
        }
        prop_assert_eq!(totals, priced.totals);

        let mut kept = case.items.clone();
        for index in removals {
            if kept.is_empty() {
                break;
            }
            let removed = kept.remove(index.index(kept.len()));
            let figures = price_undiscounted_item(case.currency, &case.tax, &removed);
            totals = totals_after_change(totals, Some((removed.item_type, &figures)), None);
        }
        // A replacement: the first kept item, priced again as a credit.
        if let Some(first) = kept.first_mut() {
            let before = price_undiscounted_item(case.currency, &case.tax, first);
            let old_type = first.item_type;
            first.item_type = ItemType::Credit;
            let after = price_undiscounted_item(case.currency, &case.tax, first);
            totals = totals_after_change(
                totals,
                Some((old_type, &before)),
                Some((ItemType::Credit, &after)),
            );
        }
        prop_assert_eq!(totals, price_all(&kept).totals);
    }

    #[test]
    fn pricing_again_after_a_change_keeps_only_what_pricing_afresh_gives(
        case in random_case(),
        removed in any::<proptest::sample::Index>(),
        added in random_item(2),
    ) {
        let first = price_invoice_again(case.currency, &case.discounts, &case.tax, &case.items, &[]);
        let figures: Vec<PricedItem> = first.items.iter().map(|(_, figures)| figures.clone()).collect();
        prop_assert_eq!(figures.len(), case.items.len());
        // One item taken out and one added: the others keep their last pricing.
        let mut items = case.items.clone();
        let mut last: Vec<Option<LastPricing>> = first
            .units
            .iter()
            .zip(&figures)
            .map(|(&units, figures)| Some(LastPricing::of(units, figures)))
            .collect();
        // Each item's tax as its last pricing left it, which a kept item goes on showing.
        let mut taxes: Vec<Option<ItemTax>> = figures.iter().map(|figures| figures.tax.clone()).collect();
        if !items.is_empty() {
            let at = removed.index(items.len());
            items.remove(at);
            last.remove(at);
            taxes.remove(at);
        }
        let (item_type, unit_price, quantity, manual) = added;
        let mut new_item = item("ii_99", item_type, unit_price.round_dp(case.currency.minor_units()), quantity);
        new_item.manual_tax = manual.map(|amount| leak(manual_tax(amount)));
        items.push(new_item);
        last.push(None);

        let again = price_invoice_again(case.currency, &case.discounts, &case.tax, &items, &last);
        let afresh = price_invoice(case.currency, &case.discounts, &case.tax, &items);
        prop_assert_eq!(&again.totals, &afresh.totals);
        prop_assert_eq!(&again.discount_amounts, &afresh.discount_amounts);
        let repriced: HashMap<usize, &PricedItem> =
            again.items.iter().map(|(index, figures)| (*index, figures)).collect();
        for (index, afresh) in afresh.items.iter().enumerate() {
            match repriced.get(&index) {
                Some(figures) => prop_assert_eq!(*figures, afresh),
                // Kept: the same units, hence the same tax, as the pricing afresh.
                None => {
                    let last = last[index].expect("only an item with a last pricing is kept");
                    prop_assert_eq!(again.units[index], last.units);
                    prop_assert_eq!(last.tax_amount, tax_amount_of(afresh));
                    prop_assert_eq!(&taxes[index], &afresh.tax);
                }
            }
        }
        if matches!(case.tax, TaxSettings::Vat(_)) {
            prop_assert_eq!(again.items.len(), items.len(), "VAT keeps no last pricing");
        }
    }
}
