//! What every document of an invoice drawn on [`Pages`] has, drawn one way: a heading with the
//! document's facts, the parties' blocks, a table whose header comes back on every page, a
//! list of totals, notes, and "Page N of M" at the foot of each page. A document only says
//! what goes in them.

use rust_decimal::Decimal;

use super::facturx::FacturX;
use super::format;
use super::layout::{Align, MARGIN, PAGE_HEIGHT, PAGE_WIDTH, Pages, Weight, at_most, width, wrap};

/// The size of the heading's facts, the parties, the totals and the notes.
const BODY: f32 = 9.0;
/// The size of the table.
pub const TABLE: f32 = 8.0;
/// The size of the footers and of secondary text in the table.
pub const SMALL: f32 = 7.5;
/// The right edge of the content.
pub const RIGHT: f32 = PAGE_WIDTH - MARGIN;
/// Where the content of a page must end, above the footer.
const BOTTOM: f32 = PAGE_HEIGHT - MARGIN - 14.0;
/// The height of a line of the table.
const ROW: f32 = 10.5;
/// The most lines a party's block takes on the document.
const MAX_BLOCK_LINES: usize = 16;
/// The room the heading's fact values have left of the right margin when they are narrow: the
/// labels end there.
pub const FACT_VALUES: f32 = 120.0;
/// The title's mark ("Paid") starts at least this far from the margin, and this far past the
/// title.
const MARK_AT: f32 = 100.0;
const MARK_GAP: f32 = 11.0;

/// A column of a table: where it sits, its header, and how its text sits in it (numbers end
/// at its right edge).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The left edge.
    pub x: f32,
    /// How wide it is.
    pub width: f32,
    /// How its header and its text sit.
    pub align: Align,
    /// Its header.
    pub label: &'static str,
}

impl Column {
    /// The right edge.
    pub const fn right(self) -> f32 {
        self.x + self.width
    }
}

// The figures' columns are the same on every document, so that they read alike; the totals'
// labels end left of the last.

/// Units.
pub const QUANTITY: Column = Column {
    x: 298.0,
    width: 32.0,
    align: Align::Right,
    label: "Qty",
};
/// Price of one unit.
pub const UNIT_PRICE: Column = Column {
    x: 334.0,
    width: 58.0,
    align: Align::Right,
    label: "Unit price",
};
/// The discount taken off.
pub const DISCOUNT: Column = Column {
    x: 396.0,
    width: 50.0,
    align: Align::Right,
    label: "Discount",
};
/// The tax.
pub const TAX: Column = Column {
    x: 450.0,
    width: 46.0,
    align: Align::Right,
    label: "Tax",
};
/// The amount.
pub const AMOUNT: Column = Column {
    x: 500.0,
    width: RIGHT - 500.0,
    align: Align::Right,
    label: "Amount",
};

/// What a row of the table shows in one column.
#[derive(Debug, Clone)]
pub enum Cell {
    /// Lines of text from the column's left edge, one per row line.
    Lines {
        /// The column.
        column: Column,
        /// The text size.
        size: f32,
        /// The lines, already cut to the column.
        lines: Vec<String>,
    },
    /// A number ending at the column's right edge, made smaller if it would not fit.
    Number {
        /// The column.
        column: Column,
        /// The number as printed.
        text: String,
    },
}

impl Cell {
    /// `text` cut into lines of the column at `size`, at most `max_lines` of them.
    pub fn wrapped(column: Column, size: f32, text: &str, max_lines: usize) -> Self {
        Self::Lines {
            column,
            size,
            lines: at_most(wrap(text, size, Weight::Regular, column.width), max_lines),
        }
    }

    /// How many lines of the row it takes.
    fn height(&self) -> usize {
        match self {
            Self::Lines { lines, .. } => lines.len(),
            Self::Number { .. } => 1,
        }
    }
}

/// A line of the totals: a label and an amount.
#[derive(Debug, Clone)]
pub struct Total {
    /// What it is.
    pub label: String,
    /// The amount, printed in the currency's minor units.
    pub amount: Decimal,
    /// Bold for the figures that matter most.
    pub weight: Weight,
}

impl Total {
    /// A line in regular weight.
    pub fn regular(label: impl Into<String>, amount: Decimal) -> Self {
        Self {
            label: label.into(),
            amount,
            weight: Weight::Regular,
        }
    }

    /// A line in bold.
    pub fn bold(label: impl Into<String>, amount: Decimal) -> Self {
        Self {
            label: label.into(),
            amount,
            weight: Weight::Bold,
        }
    }
}

/// A party's block: its label ("From") and its lines, the first of them in bold.
pub type Party = (&'static str, Vec<String>);

/// A document being laid out, top to bottom, page after page.
#[derive(Debug)]
pub struct Sheet {
    pages: Pages,
    /// The baseline of the next line, from the top of the page.
    y: f32,
    minor_units: u32,
    /// The table's columns, whose header each page of the table repeats.
    columns: &'static [Column],
}

impl Sheet {
    /// A first page, for amounts of `minor_units` decimals and a table of `columns`.
    pub fn new(minor_units: u32, columns: &'static [Column]) -> Self {
        let mut pages = Pages::default();
        pages.new_page();
        Self {
            pages,
            y: MARGIN,
            minor_units,
            columns,
        }
    }

    /// How many decimals the sheet's amounts have.
    pub fn minor_units(&self) -> u32 {
        self.minor_units
    }

    /// `amount` in the currency's minor units.
    pub fn amount(&self, amount: Decimal) -> String {
        format::amount(amount, self.minor_units)
    }

    /// A unit price: the currency's decimals and any finer digit it has.
    pub fn unit_price(&self, price: Decimal) -> String {
        format::unit_price(price, self.minor_units)
    }

    /// The title, with `mark` ("Paid") beside it, the document's number at the right, and its
    /// facts under the number, labels ending `values` left of the right margin (see
    /// [`values_room`]).
    pub fn heading(
        &mut self,
        title: &str,
        mark: Option<&str>,
        number: &str,
        facts: &[(&str, String)],
        values: f32,
    ) {
        self.y += 18.0;
        self.pages
            .text(MARGIN, self.y, 22.0, Weight::Bold, Align::Left, title);
        if let Some(mark) = mark {
            let x = MARGIN + (width(title, 22.0, Weight::Bold) + MARK_GAP).max(MARK_AT);
            self.pages
                .text(x, self.y, 22.0, Weight::Bold, Align::Left, mark);
        }
        self.pages
            .text(RIGHT, self.y, 12.0, Weight::Bold, Align::Right, number);
        for (label, value) in facts {
            self.y += 12.0;
            self.pages.text(
                RIGHT - values,
                self.y,
                BODY,
                Weight::Bold,
                Align::Right,
                label,
            );
            self.pages
                .text(RIGHT, self.y, BODY, Weight::Regular, Align::Right, value);
        }
        self.y += 24.0;
    }

    /// The parties' blocks side by side, each cut to [`MAX_BLOCK_LINES`].
    pub fn parties(&mut self, blocks: &[Party]) {
        let column = (RIGHT - MARGIN) / blocks.len() as f32;
        let top = self.y;
        let mut bottom = top;
        for (index, (label, lines)) in blocks.iter().enumerate() {
            let x = MARGIN + column * index as f32;
            let mut y = top;
            self.pages
                .text(x, y, BODY, Weight::Bold, Align::Left, label);
            let mut parts = Vec::new();
            for (index, line) in lines.iter().enumerate() {
                let weight = if index == 0 {
                    Weight::Bold
                } else {
                    Weight::Regular
                };
                let wrapped = wrap(line, BODY, weight, column - 10.0);
                parts.extend(wrapped.into_iter().map(|part| (weight, part)));
            }
            // A block keeps to the top of the first page, whatever a client puts in it.
            let (total, shown) = (parts.len(), parts.len().min(MAX_BLOCK_LINES));
            for (index, (weight, part)) in parts.into_iter().take(shown).enumerate() {
                let cut = index + 1 == shown && total > shown;
                let part = if cut { format!("{part} …") } else { part };
                y += 12.0;
                self.pages.text(x, y, BODY, weight, Align::Left, &part);
            }
            bottom = bottom.max(y);
        }
        self.y = bottom + 28.0;
    }

    /// The table's header and its rule.
    pub fn table_header(&mut self) {
        for column in self.columns {
            let x = match column.align {
                Align::Left => column.x,
                Align::Right => column.right(),
            };
            self.pages
                .text(x, self.y, TABLE, Weight::Bold, column.align, column.label);
        }
        self.y += 4.0;
        self.pages.rule(MARGIN, self.y, RIGHT - MARGIN, 0.8);
        self.y += ROW;
    }

    /// A row of the table, on a new page (under the header again) when it does not fit.
    pub fn row(&mut self, cells: &[Cell]) {
        let lines = cells.iter().map(Cell::height).max().unwrap_or(1);
        let height = ROW * lines as f32 + 2.0;
        self.make_room(height, true);
        let top = self.y;
        for cell in cells {
            match cell {
                Cell::Lines {
                    column,
                    size,
                    lines,
                } => {
                    for (index, line) in lines.iter().enumerate() {
                        let y = top + ROW * index as f32;
                        self.pages
                            .text(column.x, y, *size, Weight::Regular, Align::Left, line);
                    }
                }
                Cell::Number { column, text } => self.number(*column, top, text),
            }
        }
        self.y = top + height;
    }

    /// A number ending at the column's right edge, made smaller if it would not fit.
    fn number(&mut self, column: Column, y: f32, text: &str) {
        let wide = width(text, TABLE, Weight::Regular);
        let size = if wide > column.width {
            TABLE * column.width / wide
        } else {
            TABLE
        };
        self.pages
            .text(column.right(), y, size, Weight::Regular, Align::Right, text);
    }

    /// The totals under a rule: labels ending left of the table's last column, amounts at the
    /// right margin.
    pub fn totals(&mut self, totals: &[Total]) {
        self.y += 6.0;
        // Together when they fit on a page; a longer list (many manual taxes) flows over.
        self.make_room(
            (14.0 * totals.len() as f32 + 8.0).min(BOTTOM - MARGIN - 40.0),
            false,
        );
        self.pages
            .rule(MARGIN, self.y - ROW + 2.0, RIGHT - MARGIN, 0.5);
        self.y += 6.0;
        let last = self.columns.last().map_or(RIGHT, |column| column.x);
        let label_x = last - 12.0;
        let label_width = label_x - PAGE_WIDTH / 2.0;
        for total in totals {
            let weight = total.weight;
            let label = at_most(wrap(&total.label, BODY, weight, label_width), 1).remove(0);
            let amount = self.amount(total.amount);
            self.make_room(14.0, false);
            self.pages
                .text(label_x, self.y, BODY, weight, Align::Right, &label);
            self.pages
                .text(RIGHT, self.y, BODY, weight, Align::Right, &amount);
            self.y += 14.0;
        }
    }

    /// A titled block of text (the notes, the VAT exemptions), over as many pages as it takes.
    pub fn notes(&mut self, title: &str, notes: &str) {
        self.y += 10.0;
        self.make_room(30.0, false);
        self.pages
            .text(MARGIN, self.y, BODY, Weight::Bold, Align::Left, title);
        for line in wrap(notes, BODY, Weight::Regular, RIGHT - MARGIN) {
            self.y += 12.0;
            self.make_room(12.0, false);
            self.pages
                .text(MARGIN, self.y, BODY, Weight::Regular, Align::Left, &line);
        }
    }

    /// Room for `height` more on this page, or a new page (with the table header again when
    /// `with_header`).
    fn make_room(&mut self, height: f32, with_header: bool) {
        if self.y + height > BOTTOM {
            self.pages.new_page();
            self.y = MARGIN + 10.0;
            if with_header {
                self.table_header();
            }
        }
    }

    /// Puts `title` and "Page N of M" at the foot of every page and writes the PDF, titled
    /// `title` (with a Factur-X invoice, a PDF/A-3 carrying it); `None` when `wanted` says
    /// nobody waits for it any more.
    pub fn finish(
        mut self,
        title: &str,
        factur_x: Option<&FacturX<'_>>,
        wanted: &dyn Fn() -> bool,
    ) -> Result<Option<Vec<u8>>, String> {
        let count = self.pages.count();
        let footer_y = PAGE_HEIGHT - MARGIN + 6.0;
        for page in 0..count {
            self.pages
                .text_on(page, MARGIN, footer_y, SMALL, Align::Left, title);
            let numbering = format!("Page {} of {count}", page + 1);
            self.pages
                .text_on(page, RIGHT, footer_y, SMALL, Align::Right, &numbering);
        }
        if !wanted() {
            return Ok(None);
        }
        self.pages.into_pdf(title, factur_x).map(Some)
    }
}

/// The room the facts' values need left of the right margin: [`FACT_VALUES`], or more when a
/// value is wider, so that no label is drawn over a value.
pub fn values_room(facts: &[(&str, String)]) -> f32 {
    facts
        .iter()
        .map(|(_, value)| width(value, BODY, Weight::Regular) + 10.0)
        .fold(FACT_VALUES, f32::max)
}
