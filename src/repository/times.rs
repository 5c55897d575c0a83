//! Times as the JSON rows of the batch statements carry them, for PostgreSQL to read.

use chrono::{DateTime, Datelike, SecondsFormat, Utc};

/// A time as PostgreSQL reads it: to the microsecond, which is all it keeps (callers pass times
/// already cut to the microsecond, so that what they answer is what a read returns). Years up
/// to 0 are written as PostgreSQL counts them, before Christ: ISO's year 0 is 1 BC.
pub(super) fn timestamp(time: DateTime<Utc>) -> String {
    if time.year() > 0 {
        return time.to_rfc3339_opts(SecondsFormat::Micros, true);
    }
    let rest = time.format("-%m-%dT%H:%M:%S%.6f");
    format!("{:04}{rest}+00 BC", 1 - time.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_to_the_microsecond_and_years_up_to_0_before_christ() {
        let time = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        assert_eq!(
            timestamp(time("2026-12-03T10:00:00.123456Z")),
            "2026-12-03T10:00:00.123456Z"
        );
        assert_eq!(
            timestamp(time("0000-12-31T23:59:59.5Z")),
            "0001-12-31T23:59:59.500000+00 BC"
        );
        assert_eq!(
            timestamp(time("0001-01-01T00:00:00Z")),
            "0001-01-01T00:00:00.000000Z"
        );
    }
}
