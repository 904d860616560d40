//! Swiss bank business days: the dates a bank executes a payment order on. Pure (no I/O,
//! nothing of the rest of the crate), so it can move into a Swiss payments crate.
//!
//! A bank business day is a weekday (Monday to Friday) that is not one of the bank
//! holidays observed by Swiss banks and the SIC clearing: New Year (1.1.), Berchtoldstag
//! (2.1.), Good Friday, Easter Monday, Ascension, Whit Monday, National Day (1.8.),
//! Christmas (25.12.) and St Stephen's Day (26.12.). Easter follows the Gregorian computus.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// Easter Sunday of year `y` (Gregorian calendar; the anonymous algorithm of Meeus, Jones
/// and Butcher). `None` outside the dates chrono can represent.
pub fn easter_sunday(y: i32) -> Option<NaiveDate> {
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let n = h + l - 7 * m + 114;
    NaiveDate::from_ymd_opt(y, u32::try_from(n / 31).ok()?, u32::try_from(n % 31 + 1).ok()?)
}

/// Whether `d` is a Swiss bank holiday (whatever the weekday).
pub fn is_bank_holiday(d: NaiveDate) -> bool {
    let fixed = matches!((d.month(), d.day()), (1, 1) | (1, 2) | (8, 1) | (12, 25) | (12, 26));
    if fixed {
        return true;
    }
    let Some(easter) = easter_sunday(d.year()) else { return false };
    // Good Friday −2, Easter Monday +1, Ascension +39, Whit Monday +50 days from Easter Sunday.
    let offset = d.signed_duration_since(easter).num_days();
    matches!(offset, -2 | 1 | 39 | 50)
}

/// Whether a bank executes payments on `d`: Monday to Friday and not a bank holiday.
pub fn is_bank_business_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !is_bank_holiday(d)
}

/// The first bank business day on or after `d` (`d` itself at the end of the calendar).
pub fn next_business_day(d: NaiveDate) -> NaiveDate {
    let mut day = d;
    // A weekend next to Easter Monday or Christmas needs at most four steps; bounded anyway.
    for _ in 0..14 {
        if is_bank_business_day(day) {
            return day;
        }
        match day.checked_add_days(Days::new(1)) {
            Some(next) => day = next,
            None => return day,
        }
    }
    day
}

/// The requested execution date of a payout run: the first bank business day on or after
/// both the Stichtag and the day the run is booked.
pub fn execution_date(stichtag: NaiveDate, booked_on: NaiveDate) -> NaiveDate {
    next_business_day(stichtag.max(booked_on))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn easter_sundays_by_the_gregorian_computus() {
        // Published dates, including the earliest and latest possible (22.03. and 25.04.).
        for (y, m, day) in [
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2019, 4, 21),
            (2021, 4, 4),
            (2022, 4, 17),
            (2023, 4, 9),
            (2024, 3, 31),
            (2025, 4, 20),
            (2038, 4, 25),
            (2285, 3, 22),
        ] {
            assert_eq!(easter_sunday(y), Some(d(y, m, day)), "{y}");
        }
    }

    #[test]
    fn holidays_around_easter_2024_and_the_days_beside_them() {
        // Good Friday 29.03., Easter Monday 01.04., Ascension 09.05., Whit Monday 20.05.2024.
        for h in [d(2024, 3, 29), d(2024, 4, 1), d(2024, 5, 9), d(2024, 5, 20)] {
            assert!(is_bank_holiday(h), "{h}");
            assert!(!is_bank_business_day(h), "{h}");
        }
        // The weekdays next to them are business days.
        for b in [
            d(2024, 3, 28), // Thursday before Good Friday
            d(2024, 4, 2),  // Tuesday after Easter Monday
            d(2024, 5, 8),  // Wednesday before Ascension
            d(2024, 5, 10), // Friday after Ascension
            d(2024, 5, 17), // Friday before Whit Monday
            d(2024, 5, 21), // Tuesday after Whit Monday
        ] {
            assert!(is_bank_business_day(b), "{b}");
        }
        // Easter Sunday and Whit Sunday are weekend days, not business days.
        assert!(!is_bank_business_day(d(2024, 3, 31)));
        assert!(!is_bank_business_day(d(2024, 5, 19)));
        // The same offsets in another year: 2023 (Easter 09.04.).
        for h in [d(2023, 4, 7), d(2023, 4, 10), d(2023, 5, 18), d(2023, 5, 29)] {
            assert!(!is_bank_business_day(h), "{h}");
        }
        for b in [d(2023, 4, 6), d(2023, 4, 11), d(2023, 5, 17), d(2023, 5, 19), d(2023, 5, 30)] {
            assert!(is_bank_business_day(b), "{b}");
        }
    }

    #[test]
    fn new_year_national_day_and_christmas() {
        // 1.1. and 2.1.2024 are Monday and Tuesday: holidays; Friday 29.12.2023 and
        // Wednesday 03.01.2024 are business days.
        assert!(!is_bank_business_day(d(2024, 1, 1)));
        assert!(!is_bank_business_day(d(2024, 1, 2)));
        assert!(is_bank_business_day(d(2023, 12, 29)));
        assert!(is_bank_business_day(d(2024, 1, 3)));
        // 1.8.2024 is a Thursday.
        assert!(!is_bank_business_day(d(2024, 8, 1)));
        assert!(is_bank_business_day(d(2024, 7, 31)));
        assert!(is_bank_business_day(d(2024, 8, 2)));
        // 25./26.12.2024 are Wednesday and Thursday.
        assert!(!is_bank_business_day(d(2024, 12, 25)));
        assert!(!is_bank_business_day(d(2024, 12, 26)));
        assert!(is_bank_business_day(d(2024, 12, 24)));
        assert!(is_bank_business_day(d(2024, 12, 27)));
        // A plain weekend and a plain weekday.
        assert!(!is_bank_business_day(d(2024, 6, 8)));
        assert!(!is_bank_business_day(d(2024, 6, 9)));
        assert!(is_bank_business_day(d(2024, 6, 10)));
    }

    #[test]
    fn execution_date_is_the_first_business_day_on_or_after_both_days() {
        // Stichtag Saturday 30.09.2023 → Monday 02.10.2023.
        assert_eq!(execution_date(d(2023, 9, 30), d(2023, 9, 30)), d(2023, 10, 2));
        // Easter Sunday 31.03.2024 → Tuesday 02.04.2024 (Easter Monday is a holiday).
        assert_eq!(execution_date(d(2024, 3, 31), d(2024, 3, 31)), d(2024, 4, 2));
        // A Stichtag on a business day is kept: Friday 31.03.2023.
        assert_eq!(execution_date(d(2023, 3, 31), d(2023, 3, 31)), d(2023, 3, 31));
        // A booking day after the Stichtag wins: booked Wednesday 11.10.2023.
        assert_eq!(execution_date(d(2023, 9, 30), d(2023, 10, 11)), d(2023, 10, 11));
        // … and is itself moved past a holiday: booked Thursday 01.08.2024 → Friday 02.08.
        assert_eq!(execution_date(d(2024, 3, 31), d(2024, 8, 1)), d(2024, 8, 2));
        // A booking day before the Stichtag does not pull the date forward.
        assert_eq!(execution_date(d(2023, 3, 31), d(2023, 3, 20)), d(2023, 3, 31));
        // Over Christmas and New Year: Saturday 24.12.2022 → Tuesday 27.12.2022;
        // Saturday 31.12.2022 → Tuesday 03.01.2023.
        assert_eq!(execution_date(d(2022, 12, 24), d(2022, 12, 24)), d(2022, 12, 27));
        assert_eq!(execution_date(d(2022, 12, 31), d(2022, 12, 31)), d(2023, 1, 3));
    }
}
