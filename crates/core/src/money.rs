//! `Chf`: an exact amount of Swiss francs whose arithmetic is checked by construction.
//!
//! Decides nothing about what is paid; it only makes sure that no amount is ever computed
//! with a silent overflow or in floating point: there is no `+`, `-` or `*` on `Chf`, only
//! `checked_…` methods that return `None` out of range, so every sum names what to do when
//! it fails. Negation cannot overflow and is an operator. The decimal scale is kept as
//! computed (`9086.00` stays `9086.00`), so stored texts and hashes do not change.
//! Must not know forms, rules or the ledger.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An exact CHF amount. Shown with 2 decimal places ([`crate::domain::chf_text`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Chf(Decimal);

impl Chf {
    pub const ZERO: Chf = Chf(Decimal::ZERO);

    /// The amount `d` (any scale; use [`Chf::rounded`] for Rappen).
    pub const fn new(d: Decimal) -> Chf {
        Chf(d)
    }
    /// Whole francs.
    pub fn from_int(n: i64) -> Chf {
        Chf(Decimal::from(n))
    }
    /// The decimal, for rendering and for storing.
    pub const fn decimal(self) -> Decimal {
        self.0
    }
    pub fn checked_add(self, o: Chf) -> Option<Chf> {
        self.0.checked_add(o.0).map(Chf)
    }
    pub fn checked_sub(self, o: Chf) -> Option<Chf> {
        self.0.checked_sub(o.0).map(Chf)
    }
    /// A rate times a count (or any factor).
    pub fn checked_mul(self, factor: Decimal) -> Option<Chf> {
        self.0.checked_mul(factor).map(Chf)
    }
    /// The sum, `None` when it leaves the range.
    pub fn checked_sum(it: impl IntoIterator<Item = Chf>) -> Option<Chf> {
        it.into_iter().try_fold(Chf::ZERO, Chf::checked_add)
    }
    /// `self - o`, kept in range: only for amounts that compute has already bounded so far
    /// below the range that no saturation can happen (a document's «Differenz», a net line).
    pub fn saturating_sub(self, o: Chf) -> Chf {
        Chf(self.0.saturating_sub(o.0))
    }
    /// `self + o`, kept in range: only for bounded amounts, as [`Chf::saturating_sub`].
    pub fn saturating_add(self, o: Chf) -> Chf {
        Chf(self.0.saturating_add(o.0))
    }
    /// `self / o` (a contribution per person, a share), `None` for a zero divisor.
    pub fn checked_div(self, o: Decimal) -> Option<Chf> {
        self.0.checked_div(o).map(Chf)
    }
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
    /// More than zero.
    pub fn is_positive(self) -> bool {
        self.0 > Decimal::ZERO
    }
    /// Less than zero.
    pub fn is_negative(self) -> bool {
        self.0 < Decimal::ZERO
    }
    pub fn abs(self) -> Chf {
        Chf(self.0.abs())
    }
    /// Rounded to `dp` decimal places as `Decimal::round_dp` does (half to even).
    pub fn round_dp(self, dp: u32) -> Chf {
        Chf(self.0.round_dp(dp))
    }
}

impl std::ops::Neg for Chf {
    type Output = Chf;
    fn neg(self) -> Chf {
        Chf(-self.0)
    }
}

impl fmt::Display for Chf {
    /// As the decimal, honouring a precision (`{:.2}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Chf {
    type Err = rust_decimal::Error;
    fn from_str(s: &str) -> Result<Chf, Self::Err> {
        Decimal::from_str(s).map(Chf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Chf {
        s.parse().unwrap()
    }

    #[test]
    fn sums_are_checked_and_keep_the_scale() {
        assert_eq!(c("200.00").checked_add(c("160.00")).map(|x| x.to_string()), Some("360.00".to_string()));
        assert_eq!(c("1").checked_sub(c("1.50")), Some(c("-0.50")));
        assert_eq!(Chf::new(Decimal::MAX).checked_add(c("1")), None);
        assert_eq!(Chf::new(Decimal::MIN).checked_sub(c("1")), None);
        assert_eq!(Chf::new(Decimal::MAX).checked_mul(Decimal::TWO), None);
        assert_eq!(c("7.00").checked_mul(Decimal::from(1298)), Some(c("9086")));
        assert_eq!(Chf::checked_sum([c("1"), c("2"), c("-3")]), Some(Chf::ZERO));
        assert_eq!(Chf::checked_sum([Chf::new(Decimal::MAX), c("1")]), None);
        assert_eq!(format!("{:.2}", c("5")), "5.00");
        assert_eq!(-c("5"), c("-5"));
        assert_eq!(Chf::new(Decimal::MIN).saturating_sub(c("1")), Chf::new(Decimal::MIN));
        assert_eq!(c("5").saturating_sub(c("7")), c("-2"));
        assert_eq!(c("7").checked_div(Decimal::TWO), Some(c("3.5")));
        assert_eq!(c("7").checked_div(Decimal::ZERO), None);
    }

    #[test]
    fn signs_on_both_sides_of_zero() {
        assert!(c("0.01").is_positive() && !c("0.01").is_negative());
        assert!(c("-0.01").is_negative() && !c("-0.01").is_positive());
        assert!(!Chf::ZERO.is_positive() && !Chf::ZERO.is_negative() && Chf::ZERO.is_zero());
        assert_eq!(c("0.015").round_dp(2), c("0.02"));
        assert_eq!(c("0.025").round_dp(2), c("0.02"));
        assert_eq!(c("0.0249").round_dp(2), c("0.02"));
    }
}
