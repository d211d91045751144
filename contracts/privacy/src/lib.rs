//! Personal data (docs/architecture.md, "Invariants"): mobile phone numbers,
//! resident identity card numbers and bank card numbers never go on the ledger
//! in plain text, and every response, page and log line masks them.
//!
//! This crate finds them, the same way everywhere: in a contract refusing its
//! arguments, in the node refusing a transaction before it is ordered
//! ([`find_in_encoded`]), and in the gateway and the SDK masking text
//! ([`mask`], `138****5678`, `1101**********1234`).
//!
//! Personal names cannot be told from other words; no field of the ledger
//! holds one, and clients hash or leave off what they must keep.
//!
//! `no_std`, no dependencies: the contracts link it into WASM.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::ControlFlow;

/// A kind of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonalData {
    /// A mainland mobile phone number: 11 digits starting with 1 (also written
    /// `138 1234 5678`, `138-1234-5678`, or with the prefix 86).
    MobilePhone,
    /// A resident identity card number: 17 digits and a digit or `X` (also
    /// written in groups of 6, 8 and 4).
    ResidentId,
    /// A bank card number: 16 to 19 digits (also written in groups of 4).
    BankCard,
}

impl PersonalData {
    /// For messages.
    pub fn describe(self) -> &'static str {
        match self {
            PersonalData::MobilePhone => "a mobile phone number",
            PersonalData::ResidentId => "a resident identity card number",
            PersonalData::BankCard => "a bank card number",
        }
    }

    /// How many leading digits the masked form keeps (it always keeps the last four).
    fn kept_prefix(self, digits: usize) -> usize {
        match self {
            // 138****5678, and 86138****5678 with the country code.
            PersonalData::MobilePhone => digits - 8,
            // 1101**********1234; 6222***********0123.
            PersonalData::ResidentId | PersonalData::BankCard => 4,
        }
    }
}

/// Where personal data was found: its kind and its byte range in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// What it looks like.
    pub kind: PersonalData,
    /// The byte offset of its first character.
    pub start: usize,
    /// The byte offset just past its last character.
    pub end: usize,
}

/// The kind of the first personal data `text` seems to hold, if any.
///
/// Digits are ASCII or full-width. A *run* is a maximal sequence of digits.
/// Runs joined by single spaces or hyphens are also read as the usual written
/// groupings: 3-4-4 (phone, optionally after 86), 6-8-4 (identity number),
/// 4-4-4-4 with a last group of 1 to 4 more (card). A number is personal data
/// when it has the structure of one, so that the ledger's own numbers (20-digit
/// invoice numbers, 30-digit bill numbers, all-digit credit codes, corporate
/// account numbers, dates) pass:
/// - a mobile phone number: 11 digits, `1` then `3` to `9` (after 86 or not);
/// - an identity number: 17 digits and a check character (ISO 7064 MOD 11-2,
///   `0`-`9` or `X`), digits 7 to 14 a birth date from 1900 to 2099;
/// - a bank card number: 16 to 19 digits with a valid Luhn check digit, unless
///   it is 18 digits that are a valid unified social credit code.
///
/// An all-digit credit code that also has an identity number's structure and
/// check (about one in fifteen thousand) is read as an identity number.
///
/// A run that touches a Latin letter is part of an identifier, not a number
/// on its own: hex hashes and ids (`…9f13812345678a…`) and credit codes pass.
pub fn find_personal_data(text: &str) -> Option<PersonalData> {
    let mut first = None;
    walk(text, |found| {
        first = Some(found.kind);
        ControlFlow::Break(())
    });
    first
}

/// Every piece of personal data in `text`, in order, not overlapping.
pub fn find_all(text: &str) -> Vec<Found> {
    let mut all = Vec::new();
    walk(text, |found| {
        all.push(found);
        ControlFlow::Continue(())
    });
    all
}

/// `text` with every piece of personal data masked: the digits between the
/// kept prefix and the last four become `*` (`138****5678`,
/// `1101**********1234`, `6222***********0128`); separators inside a masked
/// number are dropped. Text without personal data comes back as it is.
pub fn mask(text: &str) -> Cow<'_, str> {
    let found = find_all(text);
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in found {
        out.push_str(&text[at..f.start]);
        let digits: Vec<char> = text[f.start..f.end]
            .chars()
            .filter_map(|c| match class(c) {
                Class::Digit(d) => Some(char::from(d)),
                Class::X => Some('X'),
                _ => None,
            })
            .collect();
        let keep = f.kind.kept_prefix(digits.len());
        for (i, d) in digits.iter().enumerate() {
            out.push(if i < keep || i + 4 >= digits.len() { *d } else { '*' });
        }
        at = f.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// The first personal data in the text strings of canonically (Borsh) encoded
/// arguments, whatever their layout ([`encoded_strings`]).
pub fn find_in_encoded(bytes: &[u8]) -> Option<PersonalData> {
    // The shortest personal datum is an 11-digit phone number.
    encoded_strings(bytes, 11).find_map(find_personal_data)
}

/// The text strings of canonically (Borsh) encoded data of any layout, in
/// order, each at least `min_len` bytes.
///
/// A string is encoded as its length (4 bytes, little-endian) and its UTF-8
/// bytes; so are byte vectors, which count when they hold text. Every place
/// that reads as such a string, holds no NUL byte and is valid UTF-8 is
/// yielded. Binary fields (hashes, amounts, dates) are not text and do not
/// join a neighbouring string.
///
/// Linear in the input: a candidate's length under 2²⁴ ends in a NUL byte,
/// which no candidate text holds, so two candidates' texts overlap by at most
/// the three bytes before that NUL.
pub fn encoded_strings(bytes: &[u8], min_len: usize) -> EncodedStrings<'_> {
    EncodedStrings { bytes, min_len: min_len.max(1), at: 0, nul: 0 }
}

/// The iterator of [`encoded_strings`].
#[derive(Debug, Clone)]
pub struct EncodedStrings<'a> {
    bytes: &'a [u8],
    min_len: usize,
    /// The next place a length may start.
    at: usize,
    /// The first NUL at or after the current candidate's text.
    nul: usize,
}

impl<'a> Iterator for EncodedStrings<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let bytes = self.bytes;
        while self.at + 4 + self.min_len <= bytes.len() {
            let i = self.at;
            self.at += 1;
            let len = u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]) as usize;
            let start = i + 4;
            if !(self.min_len..1 << 24).contains(&len) || len > bytes.len() - start {
                continue;
            }
            if self.nul < start {
                self.nul = start + bytes[start..].iter().position(|&b| b == 0).unwrap_or(bytes.len() - start);
            }
            if self.nul < start + len {
                continue;
            }
            if let Ok(text) = core::str::from_utf8(&bytes[start..start + len]) {
                return Some(text);
            }
        }
        None
    }
}

/// Unified social credit codes (GB 32100-2015): enterprises' identities,
/// 18 characters, some all digits.
const CREDIT_CODE_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_CODE_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// The check character a 17-character credit code body needs, or `None` if the
/// body is not 17 valid characters.
pub fn credit_code_check_char(body: &str) -> Option<char> {
    if body.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (b, w) in body.bytes().zip(CREDIT_CODE_WEIGHTS) {
        let v = CREDIT_CODE_CHARS.iter().position(|c| *c == b)? as u32;
        sum += v * w;
    }
    Some(CREDIT_CODE_CHARS[((31 - sum % 31) % 31) as usize] as char)
}

/// Whether `code` is a well-formed 18-character unified social credit code with
/// the right check character.
pub fn is_valid_credit_code(code: &str) -> bool {
    code.len() == 18 && code.is_char_boundary(17) && credit_code_check_char(&code[..17]) == code[17..].chars().next()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// An ASCII or full-width digit, as its ASCII digit.
    Digit(u8),
    /// `X` of either width and case: the last character of some identity numbers.
    X,
    /// A space (of either width) or a hyphen: the separators of written groupings.
    Sep,
    /// Another Latin letter.
    Letter,
    Other,
}

fn class(c: char) -> Class {
    match c {
        '0'..='9' => Class::Digit(c as u8),
        '\u{ff10}'..='\u{ff19}' => Class::Digit(b'0' + (u32::from(c) - 0xff10) as u8),
        'X' | 'x' | '\u{ff38}' | '\u{ff58}' => Class::X,
        ' ' | '-' | '\u{3000}' => Class::Sep,
        c if c.is_ascii_alphabetic() => Class::Letter,
        _ => Class::Other,
    }
}

/// Which personal data the digits `d` (ASCII digits, perhaps a closing `X`) are, if any.
fn classify(d: &[u8]) -> Option<PersonalData> {
    let phone = |d: &[u8]| d.len() == 11 && d[0] == b'1' && (b'3'..=b'9').contains(&d[1]);
    match d.len() {
        11 if phone(d) => Some(PersonalData::MobilePhone),
        13 if d.starts_with(b"86") && phone(&d[2..]) => Some(PersonalData::MobilePhone),
        18 if resident_id(d) => Some(PersonalData::ResidentId),
        // An all-digit credit code is an enterprise's, not a card.
        18 if core::str::from_utf8(d).is_ok_and(is_valid_credit_code) => None,
        16..=19 if luhn(d) => Some(PersonalData::BankCard),
        _ => None,
    }
}

/// 17 digits, the first six a region and the next eight a birth date, then
/// the ISO 7064 MOD 11-2 check character.
fn resident_id(d: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    if d.len() != 18 || !d[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let number = |r: core::ops::Range<usize>| d[r].iter().fold(0u32, |n, c| n * 10 + u32::from(c - b'0'));
    let (year, month, day) = (number(6..10), number(10..12), number(12..14));
    if !(1900..=2099).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    let sum: u32 = d[..17].iter().zip(WEIGHTS).map(|(c, w)| u32::from(c - b'0') * w).sum();
    CHECK[(sum % 11) as usize] == d[17]
}

/// The Luhn check of card numbers.
fn luhn(d: &[u8]) -> bool {
    if !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let v = u32::from(c - b'0');
            if i % 2 == 1 { if v > 4 { v * 2 - 9 } else { v * 2 } } else { v }
        })
        .sum();
    sum % 10 == 0
}

/// Calls `f` with every piece of personal data in `text`, in order, until it breaks.
fn walk(text: &str, mut f: impl FnMut(Found) -> ControlFlow<()>) {
    // Most text holds no digit at all (0xef leads the full-width digits' encodings).
    if !text.bytes().any(|b| b.is_ascii_digit() || b == 0xef) {
        return;
    }
    let cs: Vec<(Class, usize)> = text.char_indices().map(|(at, c)| (class(c), at)).collect();
    let class_at = |i: usize| cs.get(i).map_or(Class::Other, |c| c.0);
    let offset = |i: usize| cs.get(i).map_or(text.len(), |c| c.1);
    let digit = |i: usize| matches!(class_at(i), Class::Digit(_));
    let glued = |i: usize| matches!(class_at(i), Class::Letter | Class::X);
    // The digits (and X) of characters `start..end`, separators left out.
    let digits = |start: usize, end: usize| -> Vec<u8> {
        (start..end)
            .filter_map(|i| match class_at(i) {
                Class::Digit(d) => Some(d),
                Class::X => Some(b'X'),
                _ => None,
            })
            .collect()
    };
    let mut emit = |kind, start: usize, end: usize| f(Found { kind, start: offset(start), end: offset(end) });
    // The first `GROUPS` runs of a token, for the grouped forms.
    const GROUPS: usize = 5;
    let mut i = 0;
    while i < cs.len() {
        if !digit(i) {
            i += 1;
            continue;
        }
        // A token: runs of digits joined by single separators.
        let glued_before = i > 0 && glued(i - 1);
        let mut runs = [(0usize, 0usize); GROUPS];
        let mut count = 0;
        loop {
            let start = i;
            while digit(i) {
                i += 1;
            }
            let last = !(class_at(i) == Class::Sep && digit(i + 1));
            // A closing X (an identity number's check character), itself not glued to a letter.
            let end = if last && class_at(i) == Class::X && !glued(i + 1) { i + 1 } else { i };
            let free_after = !(last && glued(end));
            if !(count == 0 && glued_before)
                && free_after
                && let Some(kind) = classify(&digits(start, end))
                && emit(kind, start, end).is_break()
            {
                return;
            }
            if count < GROUPS {
                runs[count] = (start, i - start);
            }
            count += 1;
            if last {
                break;
            }
            i += 1;
        }
        if glued_before || !(2..=GROUPS).contains(&count) {
            continue;
        }
        let end = if class_at(i) == Class::X && !glued(i + 1) { i + 1 } else { i };
        if glued(end) {
            continue;
        }
        let mut lens = [0usize; GROUPS];
        for (len, run) in lens.iter_mut().zip(&runs) {
            *len = run.1;
        }
        let grouped = matches!(
            &lens[..count],
            [3, 4, 4] | [2, 3, 4, 4] | [6, 8, 4] | [6, 8, 3] | [4, 4, 4, 4] | [4, 4, 4, 4, 1..=3]
        );
        if grouped
            && let Some(kind) = classify(&digits(runs[0].0, end))
            && emit(kind, runs[0].0, end).is_break()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;

    #[test]
    fn personal_data_is_found() {
        use PersonalData::*;
        for (text, kind) in [
            ("13812345678", MobilePhone),
            ("tel:13812345678.", MobilePhone),
            ("电话13812345678", MobilePhone),
            ("+86 138 1234 5678", MobilePhone),
            ("+8613812345678", MobilePhone),
            ("138-1234-5678", MobilePhone),
            ("pay-13812345678", MobilePhone),
            ("１３８１２３４５６７８", MobilePhone),
            ("110101199003071233", ResidentId),
            ("11010519491231002X", ResidentId),
            ("11010519491231002x", ResidentId),
            ("110105 19491231 002X", ResidentId),
            ("身份证110101199003071233号", ResidentId),
            ("6222021234567894", BankCard),
            ("6222021234567890128", BankCard),
            ("6222 0212 3456 7894", BankCard),
            ("6222-0212-3456-7890-128", BankCard),
            ("12345678901234569", BankCard), // 17 digits, Luhn-valid
        ] {
            assert_eq!(find_personal_data(text), Some(kind), "{text}");
        }
    }

    #[test]
    fn other_numbers_and_identifiers_pass() {
        for text in [
            "",
            "invoice",
            "23812345678",                    // 11 digits, not starting with 1
            "1381234567",                     // 10 digits
            "12345678901234567890",           // 20-digit invoice number
            "2024-01-15",                     // a date
            "amount 1000000.00 CNY",          // an amount
            "138 12345678",                   // not a phone grouping
            "123456789012345678901234567890", // 30-digit bill number
            "91310000MA1FL0001R",             // a unified social credit code
            "a13812345678b",                  // inside a hex string
            "9f6222021234567890e1",
            "13812345678X1",
            "12812345678",        // not a mobile prefix
            "914403001922038216", // an all-digit credit code: no birth date, no check
            "110101199013071234", // month 13
            "110101199003071234", // wrong check character
            "6222021234567890",   // no Luhn check: a corporate account number, say
            "12345678901234567",
            "138****5678", // already masked
            "1101**********1234",
        ] {
            assert_eq!(find_personal_data(text), None, "{text}");
        }
    }

    #[test]
    fn hex_ids_never_match() {
        // Digit runs of hex strings always touch a letter unless the whole string is digits.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                s.push_str(&format!("{state:016x}"));
            }
            if s.bytes().any(|b| b.is_ascii_alphabetic()) {
                assert_eq!(find_personal_data(&s), None, "{s}");
                assert_eq!(find_personal_data(&format!("tx-{s}")), None, "{s}");
            }
        }
    }

    #[test]
    fn all_digit_credit_codes_pass() {
        let mut digits_only = 0;
        for n in 0..20_000u32 {
            let body = format!("91310000{n:09}");
            let code = format!("{body}{}", credit_code_check_char(&body).unwrap());
            assert!(is_valid_credit_code(&code));
            if code.bytes().all(|b| b.is_ascii_digit()) {
                digits_only += 1;
                assert_eq!(find_personal_data(&code), None, "{code}");
            }
        }
        assert!(digits_only > 5_000, "{digits_only}");
        assert!(!is_valid_credit_code("91310000MA1FL0001é"));
    }

    #[test]
    fn masks_keep_the_agreed_digits() {
        assert_eq!(mask("13812345678"), "138****5678");
        assert_eq!(mask("call 138-1234-5678 now"), "call 138****5678 now");
        assert_eq!(mask("+86 138 1234 5678"), "+86138****5678");
        assert_eq!(mask("110101199003071233"), "1101**********1233");
        assert_eq!(mask("11010519491231002X"), "1101**********002X");
        assert_eq!(mask("card 6222021234567890128."), "card 6222***********0128.");
        assert_eq!(mask("１３８１２３４５６７８号"), "138****5678号");
        assert_eq!(mask("13812345678 and 13987654321"), "138****5678 and 139****4321");
        assert!(matches!(mask("bill 123456789012345678901234567890"), Cow::Borrowed(_)));
        for text in ["13812345678", "110101199003071233", "6222 0212 3456 7894"] {
            assert_eq!(find_personal_data(&mask(text)), None, "{text}");
        }
    }

    fn string(text: &str) -> Vec<u8> {
        let mut out = (text.len() as u32).to_le_bytes().to_vec();
        out.extend_from_slice(text.as_bytes());
        out
    }

    #[test]
    fn encoded_arguments_are_read_string_by_string() {
        // An invoice code, then a phone number among metadata values.
        let mut args = string("044031900111");
        args.extend_from_slice(&[7; 32]);
        args.extend_from_slice(&1_000_000u64.to_le_bytes());
        args.extend(string("contact"));
        args.extend(string("138 1234 5678"));
        assert_eq!(find_in_encoded(&args), Some(PersonalData::MobilePhone));

        // A 10-digit string followed by a length whose first byte is a digit
        // ('1', 49) is not read as 11 digits.
        let mut args = string("1381234567");
        args.extend(string(&"a".repeat(49)));
        args.extend_from_slice(&u64::from_le_bytes(*b"12345678").to_le_bytes());
        assert_eq!(find_in_encoded(&args), None);

        // Text in a nested encoding (bytes holding encoded arguments).
        let inner = string("11010519491231002X");
        let mut args = vec![1];
        args.extend((inner.len() as u32).to_le_bytes());
        args.extend(inner);
        assert_eq!(find_in_encoded(&args), Some(PersonalData::ResidentId));

        assert_eq!(find_in_encoded(&string("invoice 2024-01-15")), None);
        assert_eq!(find_in_encoded(&[]), None);
        assert_eq!(find_in_encoded(&[0xff; 64]), None);
    }

    #[test]
    fn hostile_encodings_stay_linear() {
        // Every 4 bytes a candidate length; texts of 11 or 4096 bytes each.
        for pattern in [[11u8, 0, 0, 0], [0, 16, 0, 0], [b'1', 0, 0, 0]] {
            let bytes: Vec<u8> = pattern.iter().copied().cycle().take(4 << 20).collect();
            assert_eq!(find_in_encoded(&bytes), None);
        }
        let digits: Vec<u8> = b"9".iter().copied().cycle().take(4 << 20).collect();
        assert_eq!(find_in_encoded(&digits), None);
    }
}
