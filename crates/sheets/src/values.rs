//! Cell values ([`Value`], the one owned form every reader produces) and their
//! interpretation under FORMS.md's value conventions: counts, BFS numbers, dates, Ja/Nein and
//! money. Pure functions, used by the readers, validation and master data.

/// The largest count a form may report (conversations, interpreters, persons, …) and the
/// largest foreign resident figure the master data may hold.
///
/// The whole canton of Solothurn had 288,836 residents at the end of 2023 (73,569 of them
/// foreign; `so_canton_population_totals.csv`, 2005–2023 all below 290,000). No municipality,
/// nor all of them together, can reach one million: a count above it is an error in its cell
/// (`WERT_ZU_GROSS`) and never enters a sum. Below it, `WERT_UNPLAUSIBEL` stays a warning.
pub const MAX_COUNT: u64 = 1_000_000;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

/// A cell value, owned and independent of the source format.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Empty,
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
    Date(NaiveDate),
    /// An Excel error value such as `#DIV/0!`.
    Error(String),
}

impl Value {
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Empty => true,
            Value::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
    /// The value as a user sees it, for "Gefundener Wert".
    pub fn display(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => {
                let s = format!("{}", round15(*f));
                s
            }
            Value::Text(s) => s.clone(),
            Value::Bool(b) => if *b { "WAHR" } else { "FALSCH" }.to_string(),
            Value::Date(d) => d.format("%d.%m.%Y").to_string(),
            Value::Error(e) => e.clone(),
        }
    }
    /// Text content trimmed, or the display form of other values.
    pub fn text(&self) -> String {
        self.display().trim().to_string()
    }
}

/// Rounds a binary double to 15 significant digits (calamine floats are doubles).
pub fn round15(f: f64) -> f64 {
    if !f.is_finite() || f == 0.0 {
        return f;
    }
    format!("{:.14e}", f).parse().unwrap_or(f)
}

/// What a count cell turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountValue {
    /// A whole number ≥ 0 stored as a number (also `12.0` and cached formula results).
    Number(u64),
    /// A whole number ≥ 0 stored as text (`" 12 "`, `"1'200"`): accepted with a note.
    TextNumber(u64),
    /// A blank cell: counted as 0 with a warning.
    Blank,
    /// Below 0.
    Negative,
    /// A fraction such as 3.5.
    Fraction,
    /// Text that is no number, an Excel error value, a boolean or a date.
    NotANumber,
    /// A whole number above [`MAX_COUNT`]: no municipality can reach it, so it is an error
    /// and never enters a sum.
    TooLarge,
}

impl CountValue {
    /// The count that may be used, if any (a blank counts as 0).
    pub fn usable(&self) -> Option<u64> {
        match self {
            CountValue::Number(n) | CountValue::TextNumber(n) => Some(*n),
            CountValue::Blank => Some(0),
            _ => None,
        }
    }
}

/// Removes Swiss thousands separators and spaces inside a number text.
fn strip_number_text(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| !matches!(c, '\'' | '’' | '‘' | '`' | '´' | ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}'))
        .collect()
}

/// A decimal from number text (`1'200`, `12.0`, `3,5`), if it is one.
pub fn decimal_from_text(s: &str) -> Option<Decimal> {
    let t = strip_number_text(s);
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | ',')) {
        return None;
    }
    // A single comma is a decimal comma ("3,5"); a number never has both.
    let t = if t.contains(',') && !t.contains('.') && t.matches(',').count() == 1 { t.replace(',', ".") } else { t };
    Decimal::from_str(&t).ok()
}

/// A double as an exact decimal, after rounding away binary noise.
pub fn decimal_from_f64(f: f64) -> Option<Decimal> {
    if !f.is_finite() {
        return None;
    }
    // Whole numbers below 10^15 are exact in a double and unchanged by rounding to 15
    // digits: the common case (counts, years, BFS-Nr.) needs no decimal formatting.
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return Some(Decimal::from(f as i64));
    }
    let r = round15(f);
    Decimal::from_str(&format!("{r}")).ok().or_else(|| Decimal::from_scientific(&format!("{r:e}")).ok())
}

fn count_from_decimal(d: Decimal, text: bool) -> CountValue {
    if d.is_sign_negative() && !d.is_zero() {
        CountValue::Negative
    } else if d.fract() != Decimal::ZERO {
        CountValue::Fraction
    } else {
        match u64::try_from(d.trunc()) {
            Ok(n) if n > MAX_COUNT => CountValue::TooLarge,
            Ok(n) if text => CountValue::TextNumber(n),
            Ok(n) => CountValue::Number(n),
            // Whole, not negative, but beyond u64: far above the ceiling.
            Err(_) => CountValue::TooLarge,
        }
    }
}

/// Interprets a count cell.
pub fn parse_count(v: &Value) -> CountValue {
    match v {
        Value::Empty => CountValue::Blank,
        Value::Text(s) if s.trim().is_empty() => CountValue::Blank,
        Value::Int(i) => count_from_decimal(Decimal::from(*i), false),
        // Doubles from 10^15 on are whole and beyond any decimal rounding: far above the ceiling.
        Value::Float(f) if f.is_finite() && *f >= 1e15 => CountValue::TooLarge,
        Value::Float(f) if f.is_finite() && *f <= -1e15 => CountValue::Negative,
        Value::Float(f) => decimal_from_f64(*f).map_or(CountValue::NotANumber, |d| count_from_decimal(d, false)),
        Value::Text(s) => match decimal_from_text(s) {
            Some(d) => count_from_decimal(d, true),
            // Only digits, yet too long for a decimal: a whole number far above the ceiling.
            None if is_digits(s) => CountValue::TooLarge,
            None => CountValue::NotANumber,
        },
        Value::Bool(_) | Value::Date(_) | Value::Error(_) => CountValue::NotANumber,
    }
}

/// Whether a text is a whole number ≥ 0 written with digits (and Swiss separators) only.
fn is_digits(s: &str) -> bool {
    let t = strip_number_text(s);
    let t = t.strip_prefix('+').unwrap_or(&t);
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

/// A whole number from a number or number text (BFS-Nr., year, half-year).
pub fn parse_whole(v: &Value) -> Option<i64> {
    let d = match v {
        Value::Int(i) => Decimal::from(*i),
        Value::Float(f) => decimal_from_f64(*f)?,
        Value::Text(s) => decimal_from_text(s)?,
        _ => return None,
    };
    if d.fract() != Decimal::ZERO {
        return None;
    }
    i64::try_from(d).ok()
}

/// A BFS-Nr.: a whole number from 1 to 9999.
pub fn parse_bfs(v: &Value) -> Option<u32> {
    parse_whole(v).filter(|n| (1..=9999).contains(n)).map(|n| n as u32)
}

/// The half-year: `1`, `2`, `1. Halbjahr`, `2. Halbjahr`, `H1`, `1. HJ`.
pub fn parse_half(v: &Value) -> Option<u8> {
    if let Some(n) = parse_whole(v) {
        return matches!(n, 1 | 2).then_some(n as u8);
    }
    let Value::Text(s) = v else { return None };
    let t = s.trim().to_lowercase().replace(' ', "");
    let digits: String = t.chars().filter(|c| c.is_ascii_digit()).collect();
    let rest: String = t.chars().filter(|c| !c.is_ascii_digit() && *c != '.').collect();
    if matches!(rest.as_str(), "halbjahr" | "h" | "hj" | "sem" | "semester") && matches!(digits.as_str(), "1" | "2") {
        return digits.parse().ok();
    }
    None
}

/// A date: an Excel date, ISO text `2023-07-28` or Swiss text `28.07.2023`.
pub fn parse_date(v: &Value) -> Option<NaiveDate> {
    match v {
        Value::Date(d) => Some(*d),
        Value::Text(s) => parse_date_text(s),
        _ => None,
    }
}

pub fn parse_date_text(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let head = s.split(['T', ' ']).next().unwrap_or(s);
    NaiveDate::parse_from_str(head, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(head, "%d.%m.%Y"))
        .or_else(|_| NaiveDate::parse_from_str(head, "%d.%m.%y"))
        .ok()
}

/// Ja/Nein in any case, or an Excel boolean. `None` when blank or anything else.
pub fn parse_ja_nein(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Text(s) => match s.trim().to_lowercase().as_str() {
            "ja" | "wahr" | "true" | "x" => Some(true),
            "nein" | "falsch" | "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A CHF amount from a number or number text, rounded to the Rappen commercially (half a
/// Rappen away from zero: 12.345 → 12.35), not by the banker's rule.
pub fn parse_money(v: &Value) -> Option<Decimal> {
    let d = match v {
        Value::Int(i) => Decimal::from(*i),
        Value::Float(f) => decimal_from_f64(*f)?,
        Value::Text(s) => decimal_from_text(s.trim().trim_start_matches("CHF").trim_start_matches("Fr."))?,
        _ => return None,
    };
    Some(d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
}

#[cfg(test)]
mod tests {
    #[test]
    fn money_rounds_half_a_rappen_away_from_zero() {
        use super::{parse_money, Value};
        use rust_decimal::Decimal;
        let chf = |t: &str| parse_money(&Value::Text(t.into()));
        assert_eq!(chf("12.345"), Some(Decimal::new(1235, 2)));
        assert_eq!(chf("12.344"), Some(Decimal::new(1234, 2)));
        assert_eq!(chf("12.355"), Some(Decimal::new(1236, 2)));
        assert_eq!(chf("-12.345"), Some(Decimal::new(-1235, 2)));
    }

    use super::*;

    #[test]
    fn round15_removes_binary_noise() {
        assert_eq!(round15(0.15417100000000003), 0.154171);
        assert_eq!(round15(12.000000000000002), 12.0);
    }
    use proptest::prelude::*;

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn counts_follow_the_value_conventions() {
        assert_eq!(parse_count(&Value::Int(12)), CountValue::Number(12));
        assert_eq!(parse_count(&Value::Float(12.0)), CountValue::Number(12));
        assert_eq!(parse_count(&Value::Float(12.000000000000002)), CountValue::Number(12));
        assert_eq!(parse_count(&t("12")), CountValue::TextNumber(12));
        assert_eq!(parse_count(&t(" 12 ")), CountValue::TextNumber(12));
        assert_eq!(parse_count(&t("1'200")), CountValue::TextNumber(1200));
        assert_eq!(parse_count(&t("1’200")), CountValue::TextNumber(1200));
        assert_eq!(parse_count(&t("ca. 10")), CountValue::NotANumber);
        assert_eq!(parse_count(&t("zwölf")), CountValue::NotANumber);
        assert_eq!(parse_count(&Value::Float(3.5)), CountValue::Fraction);
        assert_eq!(parse_count(&Value::Int(-2)), CountValue::Negative);
        assert_eq!(parse_count(&t("-2")), CountValue::Negative);
        assert_eq!(parse_count(&Value::Error("#DIV/0!".into())), CountValue::NotANumber);
        assert_eq!(parse_count(&Value::Empty), CountValue::Blank);
        assert_eq!(parse_count(&t("   ")), CountValue::Blank);
        assert_eq!(parse_count(&Value::Bool(true)), CountValue::NotANumber);
    }

    #[test]
    fn the_count_ceiling_is_inclusive() {
        assert_eq!(parse_count(&Value::Int(MAX_COUNT as i64)), CountValue::Number(MAX_COUNT));
        assert_eq!(parse_count(&Value::Int(MAX_COUNT as i64 + 1)), CountValue::TooLarge);
        assert_eq!(parse_count(&Value::Float(MAX_COUNT as f64)), CountValue::Number(MAX_COUNT));
        assert_eq!(parse_count(&Value::Float(MAX_COUNT as f64 + 1.0)), CountValue::TooLarge);
        assert_eq!(parse_count(&t("1'000'000")), CountValue::TextNumber(MAX_COUNT));
        assert_eq!(parse_count(&t("1'000'001")), CountValue::TooLarge);
        assert_eq!(parse_count(&t("18446744073709551404")), CountValue::TooLarge);
        assert_eq!(parse_count(&t("99999999999999999999999")), CountValue::TooLarge);
        assert_eq!(parse_count(&Value::Float(1e300)), CountValue::TooLarge);
        assert_eq!(parse_count(&t(&"9".repeat(40))), CountValue::TooLarge);
        assert_eq!(parse_count(&Value::Float(-1e300)), CountValue::Negative);
        assert_eq!(CountValue::TooLarge.usable(), None);
    }

    #[test]
    fn bfs_numbers_arrive_in_many_shapes() {
        assert_eq!(parse_bfs(&Value::Int(2601)), Some(2601));
        assert_eq!(parse_bfs(&Value::Float(2601.0)), Some(2601));
        assert_eq!(parse_bfs(&t(" 2601 ")), Some(2601));
        assert_eq!(parse_bfs(&t("26 01")), Some(2601));
        assert_eq!(parse_bfs(&t("Solothurn")), None);
        assert_eq!(parse_bfs(&Value::Float(2601.5)), None);
        assert_eq!(parse_bfs(&Value::Int(0)), None);
    }

    #[test]
    fn half_years_and_dates() {
        assert_eq!(parse_half(&Value::Int(1)), Some(1));
        assert_eq!(parse_half(&t("2. Halbjahr")), Some(2));
        assert_eq!(parse_half(&t("1. Halbjahr")), Some(1));
        assert_eq!(parse_half(&Value::Int(3)), None);
        assert_eq!(parse_half(&t("3. Halbjahr")), None);
        let d = NaiveDate::from_ymd_opt(2023, 7, 28).unwrap();
        assert_eq!(parse_date(&t("2023-07-28")), Some(d));
        assert_eq!(parse_date(&t("28.07.2023")), Some(d));
        assert_eq!(parse_date(&Value::Date(d)), Some(d));
        assert_eq!(parse_date(&t("irgendwann")), None);
    }

    #[test]
    fn ja_nein() {
        assert_eq!(parse_ja_nein(&t("JA")), Some(true));
        assert_eq!(parse_ja_nein(&t("nein")), Some(false));
        assert_eq!(parse_ja_nein(&Value::Bool(false)), Some(false));
        assert_eq!(parse_ja_nein(&Value::Empty), None);
    }

    #[test]
    fn usable_counts() {
        assert_eq!(CountValue::Number(7).usable(), Some(7));
        assert_eq!(CountValue::TextNumber(8).usable(), Some(8));
        assert_eq!(CountValue::Blank.usable(), Some(0), "a blank counts 0");
        for unusable in [CountValue::Negative, CountValue::Fraction, CountValue::NotANumber, CountValue::TooLarge] {
            assert_eq!(unusable.usable(), None, "{unusable:?}");
        }
    }

    #[test]
    fn number_text_takes_digits_separators_and_one_decimal_comma_only() {
        assert_eq!(decimal_from_text("3,5"), Some(Decimal::new(35, 1)), "a single comma is a decimal comma");
        assert_eq!(parse_count(&t("3,5")), CountValue::Fraction);
        assert_eq!(parse_count(&t("12,0")), CountValue::TextNumber(12));
        assert_eq!(decimal_from_text("1,2,3"), None, "two commas");
        assert_eq!(decimal_from_text("1,000.5"), None, "comma and point");
        // Characters Decimal::from_str would accept are not number text on a form.
        assert_eq!(decimal_from_text("1_000"), None);
        assert_eq!(parse_count(&t("1_000")), CountValue::NotANumber);
        assert_eq!(decimal_from_text(""), None);
        assert_eq!(decimal_from_text("+12"), Some(Decimal::from(12)));
    }

    #[test]
    fn doubles_beyond_decimal_are_not_numbers() {
        assert_eq!(decimal_from_f64(1e300), None);
        assert_eq!(decimal_from_f64(-1e300), None);
        assert_eq!(parse_whole(&Value::Float(1e300)), None);
        assert_eq!(parse_money(&Value::Float(1e300)), None);
        assert_eq!(decimal_from_f64(f64::NAN), None);
        assert_eq!(decimal_from_f64(1e15), Some(Decimal::from(1_000_000_000_000_000i64)));
        assert_eq!(decimal_from_f64(2.5), Some(Decimal::new(25, 1)));
    }

    #[test]
    fn money_in_every_shape() {
        assert_eq!(parse_money(&Value::Int(5)), Some(Decimal::from(5)));
        assert_eq!(parse_money(&t("CHF 1'250.50")), Some(Decimal::new(125_050, 2)));
        assert_eq!(parse_money(&t("Fr. 3.10")), Some(Decimal::new(310, 2)));
        assert_eq!(parse_money(&t("12.346")), Some(Decimal::new(1235, 2)), "rounded to the Rappen");
        assert_eq!(parse_money(&Value::Bool(true)), None);
        assert_eq!(parse_money(&t("viel")), None);
    }

    #[test]
    fn whole_numbers_and_half_years() {
        assert_eq!(parse_whole(&Value::Int(-3)), Some(-3));
        assert_eq!(parse_whole(&t("2023")), Some(2023));
        assert_eq!(parse_whole(&Value::Float(2023.5)), None);
        assert_eq!(parse_whole(&Value::Empty), None);
        assert_eq!(parse_half(&Value::Int(2)), Some(2));
        assert_eq!(parse_half(&Value::Int(0)), None);
        assert_eq!(parse_half(&t("H2")), Some(2));
        assert_eq!(parse_half(&t("1. HJ")), Some(1));
        assert_eq!(parse_half(&t("Halbjahr")), None, "no digit");
        assert_eq!(parse_half(&t("12. Halbjahr")), None);
        assert_eq!(parse_half(&Value::Bool(true)), None);
        assert_eq!(parse_bfs(&Value::Int(9999)), Some(9999));
        assert_eq!(parse_bfs(&Value::Int(10_000)), None);
        assert_eq!(parse_bfs(&Value::Int(1)), Some(1));
    }

    proptest! {
        #[test]
        fn any_whole_count_survives_every_representation(n in 0u64..=MAX_COUNT) {
            prop_assert_eq!(parse_count(&Value::Int(n as i64)), CountValue::Number(n));
            prop_assert_eq!(parse_count(&Value::Float(n as f64)), CountValue::Number(n));
            prop_assert_eq!(parse_count(&Value::Text(n.to_string())), CountValue::TextNumber(n));
            // Swiss thousands separators
            let s = n.to_string();
            let mut grouped = String::new();
            for (i, ch) in s.chars().enumerate() {
                if i > 0 && (s.len() - i) % 3 == 0 { grouped.push('\''); }
                grouped.push(ch);
            }
            prop_assert_eq!(parse_count(&Value::Text(grouped)), CountValue::TextNumber(n));
        }

        #[test]
        fn parse_count_never_panics(s in ".*") {
            let _ = parse_count(&Value::Text(s));
        }

        /// The shortcut for whole numbers gives what rounding to 15 digits gives.
        #[test]
        fn whole_doubles_convert_as_through_15_digits(n in -999_999_999_999_999i64..999_999_999_999_999) {
            let f = n as f64;
            let slow = Decimal::from_str(&format!("{}", round15(f))).unwrap();
            prop_assert_eq!(decimal_from_f64(f), Some(slow));
        }

        #[test]
        fn money_is_exact_to_the_rappen(r in 0i64..100_000_000) {
            let f = r as f64 / 100.0;
            let d = parse_money(&Value::Float(f)).unwrap();
            prop_assert_eq!(d, Decimal::new(r, 2));
        }
    }
}
