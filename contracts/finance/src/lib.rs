//! Money, dates and discount interest as the bill-finance rules define them
//! (docs/flows.md states the rules: whole fen, civil dates, discount interest
//! by days to run).
//!
//! Pure integer arithmetic, `no_std`: the same answer on every node and in
//! every contract. Amounts are whole fen; dates are civil dates (China
//! Standard Time is the ledger's calendar); interest is
//! `face × annual rate × days / 360`, rounded half-up to the fen.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

use alloc::string::String;
// The `BorshSchema` derive names its types with `to_string`.
#[allow(unused_imports)]
use alloc::string::ToString;
use core::fmt;

use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};

/// An amount of money in fen (0.01 yuan), always positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Fen(pub u64);

/// Why an amount or date is refused: `E_AMOUNT_INVALID` and friends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The stable code.
    pub code: &'static str,
    /// What was wrong.
    pub message: String,
}

fn invalid(code: &'static str, message: impl Into<String>) -> Invalid {
    Invalid { code, message: message.into() }
}

impl Fen {
    /// A positive amount (`E_AMOUNT_INVALID` for zero).
    pub fn new(fen: u64) -> Result<Fen, Invalid> {
        if fen == 0 {
            return Err(invalid("E_AMOUNT_INVALID", "an amount must be more than zero"));
        }
        Ok(Fen(fen))
    }

    /// Parses yuan as written: `1000000`, `1000000.5`, `1,000,000.00`. Refuses
    /// anything that is not a whole number of fen, zero, or negative.
    pub fn parse_yuan(text: &str) -> Result<Fen, Invalid> {
        let bad =
            || invalid("E_AMOUNT_INVALID", alloc::format!("{text:?} is not a positive amount of yuan in whole fen"));
        let (whole, frac) = match text.split_once('.') {
            Some((_, "")) => return Err(bad()),
            Some((w, f)) => (w, f),
            None => (text, ""),
        };
        if whole.is_empty() || frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        // Thousands separators only between complete groups of three.
        let groups: alloc::vec::Vec<&str> = whole.split(',').collect();
        let grouped_ok = groups.len() == 1
            || (!groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3));
        if !grouped_ok || !groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit())) {
            return Err(bad());
        }
        let mut yuan: u64 = 0;
        for g in &groups {
            for b in g.bytes() {
                yuan = yuan.checked_mul(10).and_then(|y| y.checked_add(u64::from(b - b'0'))).ok_or_else(bad)?;
            }
        }
        let mut fen_part = 0u64;
        for (i, b) in frac.bytes().enumerate() {
            fen_part += u64::from(b - b'0') * if i == 0 { 10 } else { 1 };
        }
        let total = yuan.checked_mul(100).and_then(|f| f.checked_add(fen_part)).ok_or_else(bad)?;
        Fen::new(total).map_err(|_| bad())
    }

    /// `self - other`, if it stays positive.
    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).filter(|f| *f > 0).map(Fen)
    }
}

impl fmt::Display for Fen {
    /// Yuan with thousands separators and two decimals: `992,416.67`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yuan = self.0 / 100;
        let digits = alloc::format!("{yuan}");
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        write!(f, "{out}.{:02}", self.0 % 100)
    }
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, from 1.
    pub day: u8,
}

/// Days in `month` of `year`.
fn month_days(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl Date {
    /// A valid date (`E_DATE_INVALID` otherwise).
    pub fn new(year: i32, month: u8, day: u8) -> Result<Date, Invalid> {
        if !(1900..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 || day > month_days(year, month) {
            return Err(invalid("E_DATE_INVALID", alloc::format!("{year:04}-{month:02}-{day:02} is not a date")));
        }
        Ok(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Date, Invalid> {
        let bad = || invalid("E_DATE_INVALID", alloc::format!("{text:?} is not a YYYY-MM-DD date"));
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |s: &str| s.parse::<u32>().map_err(|_| bad());
        let (y, m, d) = (num(&text[0..4])?, num(&text[5..7])?, num(&text[8..10])?);
        Date::new(y as i32, m as u8, d as u8).map_err(|_| bad())
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn day_number(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date of a day number.
    pub fn from_day_number(z: i64) -> Date {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// The date `days` later.
    pub fn plus_days(self, days: i64) -> Date {
        Date::from_day_number(self.day_number() + days)
    }

    /// The same day `months` later, or the month's last day if it is shorter
    /// (2025-08-31 plus 6 months is 2026-02-28).
    pub fn plus_months(self, months: u32) -> Date {
        let index = self.year as i64 * 12 + i64::from(self.month - 1) + i64::from(months);
        let year = index.div_euclid(12) as i32;
        let month = (index.rem_euclid(12) + 1) as u8;
        Date { year, month, day: self.day.min(month_days(year, month)) }
    }

    /// Day of the week, 1 = Monday … 7 = Sunday.
    pub fn weekday(self) -> u8 {
        // 1970-01-01 was a Thursday (4).
        ((self.day_number() + 3).rem_euclid(7) + 1) as u8
    }

    /// This date, or the Monday after it if it falls on a weekend.
    pub fn next_business_day(self) -> Date {
        match self.weekday() {
            6 => self.plus_days(2),
            7 => self.plus_days(1),
            _ => self,
        }
    }

    /// The civil date in China Standard Time (UTC+8) of a block time in ms since the Unix epoch.
    pub fn of_block_time(ms: u64) -> Date {
        Date::from_day_number(((ms / 1000 + 8 * 3600) / 86_400) as i64)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// An annual interest rate in parts per million (1.50 % = 15 000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct RatePpm(pub u32);

/// The figures of one discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Discount {
    /// The due date after rolling to a business day.
    pub due: Date,
    /// Interest days, from the discount date to the (rolled) due date, plus any extra days.
    pub days: u32,
    /// Interest, half-up to the fen.
    pub interest: u64,
    /// What the holder receives: face − interest.
    pub net: Fen,
}

/// Discounts `face` at `rate` on `on` for a bill due `due`; `extra_days` are
/// added (3 when the acceptor is in another city, if the bank's terms say so).
/// `E_DISCOUNT_AT_OR_AFTER_DUE` unless the discount date is before the due date.
pub fn discount(face: Fen, rate: RatePpm, on: Date, due: Date, extra_days: u32) -> Result<Discount, Invalid> {
    if on >= due {
        return Err(invalid("E_DISCOUNT_AT_OR_AFTER_DUE", alloc::format!("discounting on {on} a bill due {due}")));
    }
    let rolled = due.next_business_day();
    let days = (rolled.day_number() - on.day_number()) as u64 + u64::from(extra_days);
    let numerator = u128::from(face.0) * u128::from(rate.0) * u128::from(days);
    let denominator = 360u128 * 1_000_000;
    let interest = ((numerator + denominator / 2) / denominator) as u64;
    let net = face.checked_sub(Fen(interest)).ok_or_else(|| {
        invalid("E_AMOUNT_INVALID", alloc::format!("interest {} would consume the face amount {face}", Fen(interest)))
    })?;
    Ok(Discount { due: rolled, days: days as u32, interest, net })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn the_worked_example_comes_out_to_the_fen() {
        let face = Fen::parse_yuan("1,000,000.00").unwrap();
        let d =
            discount(face, RatePpm(15_000), Date::parse("2025-03-10").unwrap(), Date::parse("2025-09-06").unwrap(), 0)
                .unwrap();
        assert_eq!(d.due.to_string(), "2025-09-08", "Saturday rolls to Monday");
        assert_eq!(d.days, 182);
        assert_eq!(Fen(d.interest).to_string(), "7,583.33");
        assert_eq!(d.net.to_string(), "992,416.67");
        let other_city =
            discount(face, RatePpm(15_000), Date::parse("2025-03-10").unwrap(), Date::parse("2025-09-06").unwrap(), 3)
                .unwrap();
        assert_eq!(other_city.days, 185);
    }

    #[test]
    fn rounding_is_half_up() {
        // 1 yuan at 18 % for 1 day: 0.05 fen → 0; for 3 days: 0.15 fen → 0; 100 yuan for 1 day: 5 fen.
        let on = Date::parse("2025-01-06").unwrap();
        let i = |face, days| discount(Fen(face), RatePpm(180_000), on, on.plus_days(days), 0).unwrap().interest;
        assert_eq!(i(10_000, 1), 5);
        // 2.5 fen rounds up: face 5000 fen at 18 % for 1 day = 2.5 fen.
        assert_eq!(i(5_000, 1), 3);
        assert_eq!(i(4_999, 1), 2);
    }

    #[test]
    fn bad_amounts_and_dates_are_refused() {
        for bad in ["0", "0.00", "-5", "1.234", "abc", "1,00,000", ",100", "1.", "", "99999999999999999999"] {
            assert_eq!(Fen::parse_yuan(bad).map_err(|e| e.code), Err("E_AMOUNT_INVALID"), "{bad:?}");
        }
        assert_eq!(Fen::parse_yuan("0.01"), Ok(Fen(1)));
        assert_eq!(Fen::parse_yuan("1000000.5"), Ok(Fen(100_000_050)));
        for bad in ["2025-02-29", "2025-13-01", "2025-1-01", "20250101", "2025-00-10"] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
        assert!(Date::parse("2024-02-29").is_ok());
        let d = Date::parse("2025-09-06").unwrap();
        let err = discount(Fen(100), RatePpm(1), d, d, 0).unwrap_err();
        assert_eq!(err.code, "E_DISCOUNT_AT_OR_AFTER_DUE");
    }

    #[test]
    fn dates_round_trip_and_know_their_weekday() {
        let mut d = Date::parse("1999-12-25").unwrap();
        for _ in 0..20_000 {
            let n = d.day_number();
            assert_eq!(Date::from_day_number(n), d);
            assert_eq!(d.plus_days(1).day_number(), n + 1);
            d = d.plus_days(1);
        }
        assert_eq!(Date::parse("2025-09-06").unwrap().weekday(), 6);
        assert_eq!(Date::parse("1970-01-01").unwrap().weekday(), 4);
        // 2025-03-09T16:00:00Z is 00:00 on 03-10 in Beijing.
        assert_eq!(Date::of_block_time(1_741_536_000_000).to_string(), "2025-03-10");
        let months = |d: &str, n| Date::parse(d).unwrap().plus_months(n).to_string();
        assert_eq!(months("2025-03-10", 6), "2025-09-10");
        assert_eq!(months("2025-08-31", 6), "2026-02-28");
        assert_eq!(months("2023-08-31", 6), "2024-02-29");
        assert_eq!(months("2025-12-15", 1), "2026-01-15");
    }
}
