//! Cursor pages of a note's lines, as Stripe's lists take them (the notes themselves are paged
//! by the core, by `(created, id)`).

use super::credit_note_object::CreditNoteLineObject;
use crate::domain::ids::CreditMemoLineId;
use crate::repository::Cursor;

/// Up to `to_read` of a note's `lines` (in the note's order) from `cursor`: after it, or
/// before it; `None` when the cursor names none of them.
pub fn line_page(
    lines: Vec<CreditNoteLineObject>,
    cursor: Cursor<'_, CreditMemoLineId>,
    to_read: i64,
) -> Option<Vec<CreditNoteLineObject>> {
    let to_read = usize::try_from(to_read).unwrap_or(usize::MAX);
    let (id, after) = match cursor {
        Cursor::Newest => return Some(lines.into_iter().take(to_read).collect()),
        Cursor::OlderThan(id) => (id, true),
        Cursor::NewerThan(id) => (id, false),
    };
    let at = lines.iter().position(|line| line.id() == id.as_str())?;
    let mut lines = lines;
    Some(if after {
        lines.drain(at + 1..).take(to_read).collect()
    } else {
        lines.truncate(at);
        let skip = lines.len().saturating_sub(to_read);
        lines.drain(skip..).collect()
    })
}
