//! SCIM `dateTime` values (xsd:dateTime, RFC 3339 in practice) as instants, so that
//! `meta.lastModified gt "2011-05-13T04:42:34Z"` compares times, not spellings:
//! `2011-05-13T06:42:34+02:00` is the same instant as `2011-05-13T04:42:34Z`.

/// A point in time: seconds since 1970-01-01T00:00:00Z and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    pub seconds: i64,
    pub nanos: u32,
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]` (a missing zone is taken as UTC, as Entra's
/// `2018-03-27T19:59:26.000Z` and Okta's stamps both carry one). `None` if it is not one.
pub fn parse(text: &str) -> Option<Instant> {
    let b = text.as_bytes();
    let number = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i64, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let year = number(0, 4)?;
    let month = number(5, 2)?;
    let day = number(8, 2)?;
    let hour = number(11, 2)?;
    let minute = number(14, 2)?;
    let second = number(17, 2)?;
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let hours = number(i + 1, 2)?;
            let minutes = number(i + 4, 2)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'-' { -offset } else { offset }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(Instant { seconds, nanos })
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_and_fractions_give_the_same_instant() {
        let utc = parse("2011-05-13T04:42:34Z").unwrap();
        assert_eq!(parse("2011-05-13T06:42:34+02:00"), Some(utc));
        assert_eq!(parse("2011-05-13T04:42:34"), Some(utc));
        assert_eq!(parse("2011-05-13T04:42:34.000Z"), Some(utc));
        assert!(parse("2011-05-13T04:42:34.5Z").unwrap() > utc);
        assert_eq!(
            parse("1970-01-01T00:00:00Z"),
            Some(Instant {
                seconds: 0,
                nanos: 0
            })
        );
        assert_eq!(parse("2000-03-01T00:00:00Z").unwrap().seconds, 951_868_800);
    }

    #[test]
    fn non_dates_are_none() {
        for bad in [
            "",
            "2011-13-01T00:00:00Z",
            "2011-02-30T00:00:00Z",
            "2011-05-13",
            "yesterday",
            "2011-05-13T04:42:34+2",
            "2011-05-13T04:42:34.Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert!(parse("2012-02-29T00:00:00Z").is_some());
    }
}
