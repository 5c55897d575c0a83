//! The one write path of invoice items: creates, replacements and deletes, alone or many in
//! one transaction.
//!
//! A set of writes is done in a few statements whatever its size: the invoices are locked
//! (waiting for them, or only those no other transaction holds), their products and the items
//! the writes name are read; then each write is applied in turn ([`apply`]) to its invoice as
//! the writes before it left it, checked and priced in Rust (the invoice's every item is
//! priced again when it has discounts); then one statement each stores the items, deletes the
//! deleted ones, stores the invoices' totals and revisions, and records the events with their
//! webhook deliveries. A lone write is a set of one.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use rust_decimal::Decimal;

use super::repricing::{price_independent_item, price_without, reprice};
use crate::domain::currency::Currency;
use crate::domain::discount::AppliedDiscount;
use crate::domain::event::{EventChanges, EventType, InvoiceEvent, InvoiceField};
use crate::domain::ids::{CustomerId, EventId, InvoiceId, InvoiceItemId, OrganizationId};
use crate::domain::invoice::{Invoice, InvoiceStatus};
use crate::domain::invoice_item::{InvoiceItem, ItemExtras, ItemInput};
use crate::domain::precondition::ExpectedVersion;
use crate::domain::tax::ItemTax;
use crate::error::{ApiError, Clash, DomainField, DraftChange, Missing, Resource, Rule};
use crate::repository::{BatchedTotals, Tx};

/// A write of an item of a draft invoice.
#[derive(Debug, Clone)]
pub enum ItemWrite {
    /// A new item, with its id and creation time.
    Create {
        /// The item's id.
        id: InvoiceItemId,
        /// When it was created: now, or when it was made pending.
        created_time: Option<DateTime<Utc>>,
        /// What it is.
        input: ItemInput,
        /// The customer and currency its invoice must have, when it was made for them.
        terms: Option<InvoiceTerms>,
    },
    /// Every field of an item; with `if_match`, only of the version it names.
    Replace {
        /// The item.
        item_id: InvoiceItemId,
        /// What it becomes.
        input: ItemInput,
        /// The version the client last saw.
        if_match: Option<ExpectedVersion>,
    },
    /// The item gone; with `if_match`, only the version it names.
    Delete {
        /// The item.
        item_id: InvoiceItemId,
        /// The version the client last saw.
        if_match: Option<ExpectedVersion>,
    },
}

impl ItemWrite {
    /// A new item made now.
    pub fn create(input: ItemInput) -> Self {
        Self::Create {
            id: InvoiceItemId::generate(),
            created_time: None,
            input,
            terms: None,
        }
    }

    fn input(&self) -> Option<&ItemInput> {
        match self {
            Self::Create { input, .. } | Self::Replace { input, .. } => Some(input),
            Self::Delete { .. } => None,
        }
    }

    /// The item it names that must exist.
    fn existing_item(&self) -> Option<&InvoiceItemId> {
        match self {
            Self::Create { .. } => None,
            Self::Replace { item_id, .. } | Self::Delete { item_id, .. } => Some(item_id),
        }
    }
}

/// The customer and currency an invoice had when an item was made for it (its amounts in that
/// currency's minor units, say): the write is refused (409) if the invoice has others under
/// its lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceTerms {
    /// The customer it bills.
    pub customer_id: CustomerId,
    /// Its currency.
    pub currency: Currency,
}

/// One write of a set: whose, on which invoice, what.
#[derive(Debug, Clone, Copy)]
pub struct Targeted<'a> {
    /// The organization.
    pub organization_id: &'a OrganizationId,
    /// The invoice.
    pub invoice_id: &'a InvoiceId,
    /// The write.
    pub write: &'a ItemWrite,
}

/// How a set of writes takes its invoices' locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locking {
    /// Waits for each; an invoice that does not exist is 404.
    Wait,
    /// Takes only those no other transaction holds; a write whose invoice is held or missing
    /// is handed back ([`Applied::Elsewhere`]).
    SkipHeld,
}

/// What became of one write of a set.
#[derive(Debug)]
pub enum Applied {
    /// Stored (the item as written; a deleted item as it was), or refused; it stands once the
    /// set's transaction commits.
    Done(Box<Result<InvoiceItem, ApiError>>),
    /// Not done: its invoice is held by another transaction, or does not exist.
    Elsewhere,
}

/// An invoice as the set's writes leave it.
struct Locked {
    invoice: Invoice,
    /// Every item, when the invoice has discounts (each change moves them all).
    items: Option<Vec<InvoiceItem>>,
    /// Whether a write changed it.
    changed: bool,
    /// Whether a write moved its discounts' amounts.
    discounts_moved: bool,
}

/// What the set read before its writes, by organization and id.
#[derive(Default)]
struct Read {
    invoices: HashMap<(OrganizationId, InvoiceId), Locked>,
    products: HashSet<(OrganizationId, String)>,
    /// The items the writes name, as the writes leave them.
    items: HashMap<(OrganizationId, InvoiceItemId), InvoiceItem>,
}

/// Everything a set of writes stores.
#[derive(Default)]
struct ChangeSet {
    /// Each item once, as the set leaves it, in the order first written.
    stored: Vec<(OrganizationId, InvoiceItem)>,
    stored_at: HashMap<InvoiceItemId, usize>,
    deleted: Vec<(OrganizationId, InvoiceItemId)>,
    events: Vec<(OrganizationId, InvoiceEvent)>,
}

impl ChangeSet {
    fn store(&mut self, organization_id: &OrganizationId, item: &InvoiceItem) {
        match self.stored_at.get(&item.id) {
            Some(&at) => self.stored[at].1 = item.clone(),
            None => {
                self.stored_at.insert(item.id.clone(), self.stored.len());
                self.stored.push((organization_id.clone(), item.clone()));
            }
        }
    }

    fn delete(&mut self, organization_id: &OrganizationId, item_id: &InvoiceItemId) {
        if let Some(at) = self.stored_at.remove(item_id) {
            self.stored.remove(at);
            for position in self.stored_at.values_mut() {
                if *position > at {
                    *position -= 1;
                }
            }
        }
        self.deleted
            .push((organization_id.clone(), item_id.clone()));
    }
}

/// Does a set of writes in `tx`, up to its commit, which is the caller's: the outcome of each,
/// in order. Nothing is written when it fails.
#[tracing::instrument(skip_all, fields(writes = writes.len()))]
pub async fn write_items(
    tx: &mut Tx,
    writes: &[Targeted<'_>],
    locking: Locking,
) -> Result<Vec<Applied>, ApiError> {
    let mut read = read_set(tx, writes, locking).await?;
    let now = to_microseconds(Utc::now());
    let mut outcomes = Vec::with_capacity(writes.len());
    let mut changes = ChangeSet::default();
    for (position, target) in (0_i64..).zip(writes) {
        // Each write its own time, a microsecond after the one before: the set's items list
        // (by creation time) in the order of their revisions.
        let at = now + TimeDelta::microseconds(position);
        outcomes.push(apply_one(&mut read, &mut changes, target, locking, at));
    }
    store(tx, &read, &changes).await?;
    Ok(outcomes)
}

/// Does one write in `tx`, waiting for its invoice's lock.
pub async fn write_item(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_id: &InvoiceId,
    write: &ItemWrite,
) -> Result<InvoiceItem, ApiError> {
    let target = Targeted {
        organization_id,
        invoice_id,
        write,
    };
    match write_items(tx, &[target], Locking::Wait).await?.pop() {
        Some(Applied::Done(done)) => *done,
        _ => Err(ApiError::Internal("a lone write was not done".into())),
    }
}

fn apply_one(
    read: &mut Read,
    changes: &mut ChangeSet,
    target: &Targeted<'_>,
    locking: Locking,
    at: DateTime<Utc>,
) -> Applied {
    let organization_id = target.organization_id;
    // The body's references are checked before the invoice is looked up, as body validation
    // answers before resource lookup. Products are never deleted; the foreign key
    // `invoice_items_product_fk` backs the answer.
    let product = target
        .write
        .input()
        .and_then(|input| input.product_id.as_ref());
    if product.is_some_and(|id| {
        !read
            .products
            .contains(&(organization_id.clone(), id.as_str().to_owned()))
    }) {
        return Applied::Done(Box::new(Err(unknown_product())));
    }
    let key = (organization_id.clone(), target.invoice_id.clone());
    let Some(entry) = read.invoices.get_mut(&key) else {
        return match locking {
            Locking::SkipHeld => Applied::Elsewhere,
            Locking::Wait => {
                let missing = ApiError::not_found(Resource::Invoice, target.invoice_id);
                Applied::Done(Box::new(Err(missing)))
            }
        };
    };
    let old = target
        .write
        .existing_item()
        .and_then(|id| read.items.get(&(organization_id.clone(), id.clone())))
        .filter(|old| old.invoice_id == *target.invoice_id);
    let done = apply(entry, target.write, old, at).map(|change| {
        for moved in &change.moved {
            changes.store(organization_id, moved);
            // A later write of the set that names it sees the figures and revision it moved to.
            let key = (organization_id.clone(), moved.id.clone());
            if let Some(named) = read.items.get_mut(&key) {
                *named = moved.clone();
            }
        }
        let written = change.item;
        let item_key = (organization_id.clone(), written.id.clone());
        if matches!(target.write, ItemWrite::Delete { .. }) {
            changes.delete(organization_id, &written.id);
            read.items.remove(&item_key);
        } else {
            changes.store(organization_id, &written);
            read.items.insert(item_key, written.clone());
        }
        changes.events.push((organization_id.clone(), change.event));
        written
    });
    Applied::Done(Box::new(done))
}

/// A write applied to its locked invoice.
struct Change {
    /// The item as written (as it was, when deleted).
    item: InvoiceItem,
    /// The invoice's other items whose figures moved with it.
    moved: Vec<InvoiceItem>,
    /// Its event.
    event: InvoiceEvent,
}

/// Applies a write to its locked invoice, as the writes before it left it, with `old` the item
/// it names (if the invoice has it): 404 when the invoice has no such item, 412 when `if_match`
/// names another version, 409 unless the invoice is a draft, 422 for what only the invoice's
/// currency tells, in that order. Prices what the write moves, moves the invoice's totals and
/// revision, and makes the write's event.
fn apply(
    entry: &mut Locked,
    write: &ItemWrite,
    old: Option<&InvoiceItem>,
    at: DateTime<Utc>,
) -> Result<Change, ApiError> {
    let invoice_id = &entry.invoice.id;
    let old = match write.existing_item() {
        Some(item_id) => {
            let old = old.ok_or_else(|| item_not_found(invoice_id, item_id))?;
            let if_match = match write {
                ItemWrite::Replace { if_match, .. } | ItemWrite::Delete { if_match, .. } => {
                    if_match.as_ref()
                }
                ItemWrite::Create { .. } => None,
            };
            ensure_version(old, if_match)?;
            Some(old)
        }
        None => None,
    };
    draft_only(&entry.invoice)?;
    let mut changes = EventChanges::default();
    let item = match write {
        ItemWrite::Create {
            id,
            created_time,
            input,
            terms,
        } => {
            let invoice = &entry.invoice;
            if terms.as_ref().is_some_and(|terms| {
                terms.customer_id != invoice.customer_id || terms.currency != invoice.currency
            }) {
                return Err(ApiError::Conflict(Clash::TermsChanged {
                    invoice: invoice.id.to_string(),
                }));
            }
            changes.items_created.push(id.clone());
            let created_time = created_time.unwrap_or(at);
            let extras = ItemExtras::default();
            Some(unpriced_item(
                id.clone(),
                &entry.invoice,
                input.clone(),
                extras,
                (created_time, at),
            )?)
        }
        ItemWrite::Replace { item_id, input, .. } => {
            changes.items_updated.push(item_id.clone());
            let old = old.ok_or_else(|| item_not_found(invoice_id, item_id))?;
            Some(replacement(&entry.invoice, old, input.clone(), at)?)
        }
        ItemWrite::Delete { item_id, .. } => {
            changes.items_deleted.push(item_id.clone());
            None
        }
    };
    let (item, moved) = price(entry, item, old, at, &mut changes)?;
    let invoice = &mut entry.invoice;
    invoice.revision += 1;
    invoice.updated_time = at;
    entry.changed = true;
    let event = InvoiceEvent {
        id: EventId::generate(),
        invoice_id: invoice.id.clone(),
        event_type: EventType::InvoiceModified,
        revision: invoice.revision,
        changes,
        message: None,
        occurred_time: at,
    };
    Ok(Change { item, moved, event })
}

/// Prices `item` (new, or replacing `old`; `None` when `old` is deleted) on its invoice and
/// moves the invoice's totals: on an invoice without discounts the item alone, whose figures
/// move the totals; with discounts every item again. The item as written (as it was, when
/// deleted), and the other items whose figures moved.
fn price(
    entry: &mut Locked,
    item: Option<InvoiceItem>,
    old: Option<&InvoiceItem>,
    at: DateTime<Utc>,
    changes: &mut EventChanges,
) -> Result<(InvoiceItem, Vec<InvoiceItem>), ApiError> {
    let invoice = &mut entry.invoice;
    let before = invoice.totals;
    let (written, moved) = match (&mut entry.items, item) {
        (None, Some(mut item)) => {
            invoice.totals = price_independent_item(invoice, &mut item, old);
            (item, Vec::new())
        }
        (None, None) => {
            let old = old.ok_or_else(|| internal("a delete without its item"))?;
            invoice.totals = price_without(invoice, old);
            (old.clone(), Vec::new())
        }
        (Some(items), item) => {
            let changed_id = match (&item, old) {
                (Some(item), _) => item.id.clone(),
                (None, Some(old)) => old.id.clone(),
                (None, None) => return Err(internal("a delete without its item")),
            };
            items.retain(|stored| stored.id != changed_id);
            if let Some(item) = &item {
                items.push(item.clone());
            }
            let repriced = reprice(invoice, items, at)?;
            let mut moved = Vec::new();
            for &index in &repriced.moved {
                if items[index].id != changed_id {
                    moved.push(items[index].clone());
                }
            }
            let written = match item {
                Some(mut item) => {
                    // Its figures, not the revision and time the repricing gave its copy.
                    let position = items.len() - 1;
                    let priced = &items[position];
                    item.price = priced.price;
                    item.discount_amount = priced.discount_amount;
                    item.tax = priced.tax.clone();
                    items[position] = item.clone();
                    item
                }
                None => old
                    .cloned()
                    .ok_or_else(|| internal("a delete without its item"))?,
            };
            if repriced.discounts != invoice.discounts {
                invoice.discounts = repriced.discounts;
                entry.discounts_moved = true;
            }
            invoice.totals = repriced.totals;
            (written, moved)
        }
    };
    if invoice.totals != before {
        changes.fields.push(InvoiceField::Totals);
    }
    changes.items_repriced = moved.iter().map(|item| item.id.clone()).collect();
    Ok((written, moved))
}

/// Locks the set's invoices (see [`Locking`]), with every item of those that have discounts,
/// and reads its products and the items it names.
async fn read_set(
    tx: &mut Tx,
    writes: &[Targeted<'_>],
    locking: Locking,
) -> Result<Read, ApiError> {
    #[derive(Default)]
    struct Wanted<'a> {
        invoices: Vec<&'a InvoiceId>,
        products: Vec<String>,
        items: Vec<String>,
    }
    let mut by_organization: BTreeMap<&OrganizationId, Wanted<'_>> = BTreeMap::new();
    for target in writes {
        let wanted = by_organization.entry(target.organization_id).or_default();
        wanted.invoices.push(target.invoice_id);
        let product = target
            .write
            .input()
            .and_then(|input| input.product_id.as_ref());
        wanted
            .products
            .extend(product.map(|id| id.as_str().to_owned()));
        if let Some(item_id) = target.write.existing_item() {
            wanted.items.push(item_id.as_str().to_owned());
        }
    }
    let mut read = Read::default();
    for (organization_id, mut wanted) in by_organization {
        wanted.invoices.sort_unstable();
        wanted.invoices.dedup();
        for ids in [&mut wanted.products, &mut wanted.items] {
            ids.sort_unstable();
            ids.dedup();
        }
        for invoice in lock_invoices(tx, organization_id, &wanted.invoices, locking).await? {
            let key = (organization_id.clone(), invoice.id.clone());
            let locked = Locked {
                invoice,
                items: None,
                changed: false,
                discounts_moved: false,
            };
            read.invoices.insert(key, locked);
        }
        let discounted: Vec<InvoiceId> = read
            .invoices
            .iter()
            .filter(|((organization, _), locked)| {
                organization == organization_id && !locked.invoice.discounts.is_empty()
            })
            .map(|((_, invoice_id), _)| invoice_id.clone())
            .collect();
        if !discounted.is_empty() {
            for item in tx
                .items_of_invoices(organization_id, &discounted, None, 0)
                .await?
            {
                let key = (organization_id.clone(), item.invoice_id.clone());
                if let Some(locked) = read.invoices.get_mut(&key) {
                    locked.items.get_or_insert_with(Vec::new).push(item);
                }
            }
            for invoice_id in discounted {
                let key = (organization_id.clone(), invoice_id);
                if let Some(locked) = read.invoices.get_mut(&key) {
                    locked.items.get_or_insert_with(Vec::new);
                }
            }
        }
        if !wanted.products.is_empty() {
            for product_id in tx
                .existing_products(organization_id, &wanted.products)
                .await?
            {
                read.products.insert((organization_id.clone(), product_id));
            }
        }
        if !wanted.items.is_empty() {
            for item in tx.items_by_ids(organization_id, &wanted.items).await? {
                read.items
                    .insert((organization_id.clone(), item.id.clone()), item);
            }
        }
    }
    Ok(read)
}

/// Locks invoices of the organization, with their discounts. Waiting, one at a time in the
/// order of their ids (as every writer takes them, so that none deadlocks); or those no other
/// transaction holds, without waiting.
async fn lock_invoices(
    tx: &mut Tx,
    organization_id: &OrganizationId,
    invoice_ids: &[&InvoiceId],
    locking: Locking,
) -> Result<Vec<Invoice>, ApiError> {
    let mut locked = Vec::with_capacity(invoice_ids.len());
    match locking {
        Locking::Wait => {
            for invoice_id in invoice_ids {
                locked.extend(tx.lock_invoice(organization_id, invoice_id).await?);
            }
        }
        Locking::SkipHeld => {
            let ids: Vec<String> = invoice_ids
                .iter()
                .map(|id| id.as_str().to_owned())
                .collect();
            let mut discounted = Vec::new();
            for (invoice, has_discounts) in tx.lock_free_invoices(organization_id, &ids).await? {
                if has_discounts {
                    discounted.push(invoice.id.clone());
                }
                locked.push(invoice);
            }
            if !discounted.is_empty() {
                let mut discounts: HashMap<InvoiceId, Vec<AppliedDiscount>> = HashMap::new();
                for (invoice_id, applied) in tx
                    .discounts_of_invoices(organization_id, &discounted)
                    .await?
                {
                    discounts.entry(invoice_id).or_default().push(applied);
                }
                for invoice in &mut locked {
                    if let Some(applied) = discounts.remove(&invoice.id) {
                        invoice.discounts = applied;
                    }
                }
            }
        }
    }
    Ok(locked)
}

/// Stores what a set of writes changed, in one statement for each kind of row.
async fn store(tx: &mut Tx, read: &Read, changes: &ChangeSet) -> Result<(), ApiError> {
    if changes.events.is_empty() {
        return Ok(());
    }
    let items: Vec<_> = changes
        .stored
        .iter()
        .map(|(organization_id, item)| (organization_id, item))
        .collect();
    if !items.is_empty() {
        tx.save_items(&items).await?;
    }
    if !changes.deleted.is_empty() {
        let deleted: Vec<_> = changes
            .deleted
            .iter()
            .map(|(organization_id, item_id)| (organization_id, item_id))
            .collect();
        tx.delete_items(&deleted).await?;
    }
    let changed = read.invoices.iter().filter(|(_, entry)| entry.changed);
    for ((organization_id, invoice_id), entry) in changed.clone() {
        if entry.discounts_moved {
            tx.save_discounts(organization_id, invoice_id, &entry.invoice.discounts)
                .await?;
        }
    }
    let totals: Vec<BatchedTotals<'_>> = changed
        .map(|((organization_id, invoice_id), entry)| BatchedTotals {
            organization_id,
            invoice_id,
            totals: entry.invoice.totals,
            revision: entry.invoice.revision,
            updated_time: entry.invoice.updated_time,
        })
        .collect();
    tx.set_totals(&totals).await?;
    let events: Vec<_> = changes
        .events
        .iter()
        .map(|(organization_id, event)| (organization_id, event))
        .collect();
    tx.record_events(&events).await?;
    Ok(())
}

/// The 404 for an item the invoice does not have.
pub fn item_not_found(
    invoice_id: impl std::fmt::Display,
    item_id: impl std::fmt::Display,
) -> ApiError {
    ApiError::NotFound(Missing::within(Resource::Item, item_id, invoice_id))
}

/// The 422 for an item whose `productId` names no product of the organization.
pub fn unknown_product() -> ApiError {
    ApiError::invalid_input(DomainField::ItemProduct, Rule::UnknownProduct)
}

/// 412 when `if_match` names a version of the item other than its own.
fn ensure_version(item: &InvoiceItem, if_match: Option<&ExpectedVersion>) -> Result<(), ApiError> {
    match if_match {
        Some(if_match) if !if_match.admits(Some(item.revision)) => {
            Err(ApiError::version_mismatch(Resource::Item, &item.id))
        }
        _ => Ok(()),
    }
}

/// 409 unless the invoice is a draft, naming its status.
pub fn draft_only(invoice: &Invoice) -> Result<(), ApiError> {
    if invoice.status == InvoiceStatus::Draft {
        Ok(())
    } else {
        Err(ApiError::Conflict(Clash::NotDraft {
            invoice: invoice.id.to_string(),
            status: invoice.status,
            change: DraftChange::Items,
        }))
    }
}

/// `old` replaced by `input` on `invoice`, before pricing: its id, creation time and (unless
/// the input gives them) extras kept, one revision on.
fn replacement(
    invoice: &Invoice,
    old: &InvoiceItem,
    input: ItemInput,
    now: DateTime<Utc>,
) -> Result<InvoiceItem, ApiError> {
    let kept = old.extras.clone();
    let mut item = unpriced_item(
        old.id.clone(),
        invoice,
        input,
        kept,
        (old.created_time, now),
    )?;
    item.revision = old.revision + 1;
    Ok(item)
}

/// An item as asked for, before pricing fills its price, discount share and tax, with the
/// extras the input gives or else `kept_extras`, created and updated at the times given (cut
/// to the microsecond, all PostgreSQL keeps). A manual tax with more decimals than the
/// currency has is refused here, the first point where the currency is known.
fn unpriced_item(
    id: InvoiceItemId,
    invoice: &Invoice,
    input: ItemInput,
    kept_extras: ItemExtras,
    (created_time, updated_time): (DateTime<Utc>, DateTime<Utc>),
) -> Result<InvoiceItem, ApiError> {
    let currency = invoice.currency;
    if let Some(tax) = &input.tax
        && !tax.fits_currency(currency.minor_units())
    {
        return Err(ApiError::invalid_input(
            DomainField::ItemManualTaxAmount,
            Rule::TooPrecise { currency },
        ));
    }
    let mut extras = input.extras.unwrap_or(kept_extras);
    extras.date = extras.date.map(to_microseconds);
    Ok(InvoiceItem {
        id,
        invoice_id: invoice.id.clone(),
        item_type: input.item_type,
        description: input.description,
        unit_price: input.unit_price,
        quantity: input.quantity,
        price: Decimal::ZERO,
        product_id: input.product_id,
        discount_amount: Decimal::ZERO,
        period_start_time: input.period_start_time.map(to_microseconds),
        period_end_time: input.period_end_time.map(to_microseconds),
        period_number: input.period_number,
        tax: input.tax.map(ItemTax::Manual),
        extras,
        revision: 0,
        created_time: to_microseconds(created_time),
        updated_time,
    })
}

/// A time cut to the microsecond, all PostgreSQL keeps: the answers say what a read returns.
fn to_microseconds(time: DateTime<Utc>) -> DateTime<Utc> {
    time.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(time)
}

fn internal(message: &'static str) -> ApiError {
    ApiError::Internal(message.into())
}
