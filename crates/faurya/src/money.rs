//! Money as integer minor units (cents, yen, fils), never floats.
//!
//! Providers send amounts in two shapes: Whop as a JSON number in major units (`10.43`), Paddle
//! as a string of minor units (`"65215"`). Both are turned into an `i64` of minor units here,
//! exactly: a decimal that does not fit the currency's minor unit is an error, never rounded,
//! because a silently rounded payment is a wrong number on the founder's revenue chart.

/// Why an amount or a currency code could not be used. Messages name the value so the founder
/// can find the delivery that carried it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error(
        "`{code}` is not an ISO 4217 currency code Faurya knows \
         (expected three letters such as USD, EUR or JPY)"
    )]
    UnknownCurrency { code: String },

    #[error("the amount `{text}` is not a JSON number: {problem}")]
    NotANumber { text: String, problem: &'static str },

    #[error(
        "the amount {value} {currency} has {places} decimal places, but {currency} allows at most \
         {allowed}: Faurya does not round money, so this amount cannot be recorded as it is"
    )]
    TooPrecise { value: String, currency: String, places: u64, allowed: u32 },

    #[error(
        "the amount {value} {currency} is too large to record \
         (more than {max} minor units)", max = i64::MAX
    )]
    Overflow { value: String, currency: String },

    #[error("the amount `{text}` is not a whole number of minor units: {problem}")]
    NotMinorUnits { text: String, problem: &'static str },
}

/// ISO 4217 (list one, as published for 2026-01-01): alphabetic code → number of minor-unit
/// digits. Codes marked "N.A." there (gold, SDR, test and bond units) have no minor unit and
/// are left out on purpose: nobody is paid in them.
#[rustfmt::skip]
const ACTIVE: &[(&str, u32)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("AOA", 2), ("ARS", 2), ("AUD", 2),
    ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BHD", 3), ("BIF", 0),
    ("BMD", 2), ("BND", 2), ("BOB", 2), ("BOV", 2), ("BRL", 2), ("BSD", 2), ("BTN", 2),
    ("BWP", 2), ("BYN", 2), ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHE", 2), ("CHF", 2),
    ("CHW", 2), ("CLF", 4), ("CLP", 0), ("CNY", 2), ("COP", 2), ("COU", 2), ("CRC", 2),
    ("CUP", 2), ("CVE", 2), ("CZK", 2), ("DJF", 0), ("DKK", 2), ("DOP", 2), ("DZD", 2),
    ("EGP", 2), ("ERN", 2), ("ETB", 2), ("EUR", 2), ("FJD", 2), ("FKP", 2), ("GBP", 2),
    ("GEL", 2), ("GHS", 2), ("GIP", 2), ("GMD", 2), ("GNF", 0), ("GTQ", 2), ("GYD", 2),
    ("HKD", 2), ("HNL", 2), ("HTG", 2), ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2),
    ("IQD", 3), ("IRR", 2), ("ISK", 0), ("JMD", 2), ("JOD", 3), ("JPY", 0), ("KES", 2),
    ("KGS", 2), ("KHR", 2), ("KMF", 0), ("KPW", 2), ("KRW", 0), ("KWD", 3), ("KYD", 2),
    ("KZT", 2), ("LAK", 2), ("LBP", 2), ("LKR", 2), ("LRD", 2), ("LSL", 2), ("LYD", 3),
    ("MAD", 2), ("MDL", 2), ("MGA", 2), ("MKD", 2), ("MMK", 2), ("MNT", 2), ("MOP", 2),
    ("MRU", 2), ("MUR", 2), ("MVR", 2), ("MWK", 2), ("MXN", 2), ("MXV", 2), ("MYR", 2),
    ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2), ("NOK", 2), ("NPR", 2), ("NZD", 2),
    ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2), ("PHP", 2), ("PKR", 2), ("PLN", 2),
    ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2), ("RUB", 2), ("RWF", 0), ("SAR", 2),
    ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2), ("SGD", 2), ("SHP", 2), ("SLE", 2),
    ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2), ("SVC", 2), ("SYP", 2), ("SZL", 2),
    ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3), ("TOP", 2), ("TRY", 2), ("TTD", 2),
    ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0), ("USD", 2), ("USN", 2), ("UYI", 0),
    ("UYU", 2), ("UYW", 4), ("UZS", 2), ("VED", 2), ("VES", 2), ("VND", 0), ("VUV", 0),
    ("WST", 2), ("XAD", 2), ("XAF", 0), ("XCD", 2), ("XCG", 2), ("XOF", 0), ("XPF", 0),
    ("YER", 2), ("ZAR", 2), ("ZMW", 2), ("ZWG", 2),
];

/// Codes withdrawn from ISO 4217 recently enough that stored deliveries may carry them
/// (reprocessing a 2025 payment in Bulgarian lev must still work).
#[rustfmt::skip]
const RECENTLY_WITHDRAWN: &[(&str, u32)] = &[
    ("ANG", 2), // → XCG, 2025
    ("BGN", 2), // → EUR, 2026
    ("CUC", 2), // Cuba, 2021
    ("HRK", 2), // → EUR, 2023
    ("SLL", 2), // → SLE, 2023
    ("ZWL", 2), // → ZWG, 2024
];

/// The ISO 4217 minor-unit exponent of `currency` (USD 2, JPY 0, KWD 3, CLF 4), matched
/// case-insensitively because Whop sends `usd`. `None` for anything that is not a known
/// three-letter code.
pub fn exponent(currency: &str) -> Option<u32> {
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    ACTIVE
        .iter()
        .chain(RECENTLY_WITHDRAWN)
        .find(|(code, _)| code.eq_ignore_ascii_case(currency))
        .map(|&(_, places)| places)
}

/// The stored form of a currency code: trimmed, upper-case, and known to [`exponent`].
pub fn normalize_currency(code: &str) -> Result<String, MoneyError> {
    let trimmed = code.trim();
    if exponent(trimmed).is_none() {
        return Err(MoneyError::UnknownCurrency { code: shown(trimmed) });
    }
    Ok(trimmed.to_ascii_uppercase())
}

/// Minor units of `currency` from the exact text of a JSON number in major units, as it stands
/// in the body (`10.43`, `1e2`, `-3.20`). Reading the text instead of an `f64` keeps `0.1` and
/// `10.43` exact; extra decimal places are accepted only when they are zeros (`10.430`).
pub fn decimal_to_minor(text: &str, currency: &str) -> Result<i64, MoneyError> {
    let places =
        exponent(currency.trim()).ok_or_else(|| MoneyError::UnknownCurrency { code: shown(currency.trim()) })?;
    let currency = currency.trim().to_ascii_uppercase();
    let number = JsonNumber::parse(text)?;

    // value = digits × 10^(-scale); drop zeros that carry no value on either end.
    let mut digits = number.digits.trim_start_matches('0');
    let mut scale = number.scale;
    while let Some(rest) = digits.strip_suffix('0') {
        digits = rest;
        scale -= 1;
    }
    if digits.is_empty() {
        return Ok(0);
    }
    let shift = i128::from(places) - scale;
    if shift < 0 {
        return Err(MoneyError::TooPrecise {
            value: shown(text.trim()),
            currency,
            places: u64::try_from(scale).unwrap_or(u64::MAX),
            allowed: places,
        });
    }
    let overflow = || MoneyError::Overflow { value: shown(text.trim()), currency: currency.clone() };
    // i64::MAX has 19 digits: anything longer after the shift cannot fit.
    if digits.len() as i128 + shift > 19 {
        return Err(overflow());
    }
    let magnitude: i128 = digits.parse::<i128>().map_err(|_| overflow())? * 10_i128.pow(shift as u32);
    let signed = if number.negative { -magnitude } else { magnitude };
    i64::try_from(signed).map_err(|_| overflow())
}

/// An amount Paddle already gives in minor units, as a string (`"65215"` = $652.15). Only ASCII
/// digits with an optional leading `-` are accepted: a decimal point or an exponent would mean
/// the field changed meaning, and guessing would record a wrong amount.
pub fn integer_minor(text: &str) -> Result<i64, MoneyError> {
    let fail = |problem| Err(MoneyError::NotMinorUnits { text: shown(text), problem });
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    if unsigned.is_empty() {
        return fail("it has no digits");
    }
    if let Some(bad) = unsigned.bytes().find(|b| !b.is_ascii_digit()) {
        return fail(match bad {
            b'.' | b',' => "it has a decimal separator, but minor units are whole numbers",
            b'e' | b'E' => "it has an exponent, but minor units are plain digits",
            b'+' => "a leading + is not allowed",
            b'-' => "a minus sign may only come first",
            b if b.is_ascii_whitespace() => "it contains spaces",
            _ => "only digits and a leading minus sign are allowed",
        });
    }
    match text.parse::<i64>() {
        Ok(value) => Ok(value),
        Err(_) => fail("it does not fit in a 64-bit integer"),
    }
}

/// A JSON number split into sign, all significant digits and a decimal scale, following the
/// grammar of RFC 8259 §6 exactly, so that what is accepted is what a JSON body can hold.
struct JsonNumber<'a> {
    negative: bool,
    /// Integer digits followed by fraction digits, as written.
    digits: std::borrow::Cow<'a, str>,
    /// How many places the decimal point sits from the right of `digits` (negative: zeros to
    /// append). Exponents are clamped far beyond anything that could fit an `i64`.
    scale: i128,
}

impl<'a> JsonNumber<'a> {
    fn parse(raw: &'a str) -> Result<Self, MoneyError> {
        // Whitespace around a JSON value is insignificant.
        let text = raw.trim_matches([' ', '\t', '\n', '\r']);
        let fail = |problem| Err(MoneyError::NotANumber { text: shown(raw), problem });
        let bytes = text.as_bytes();
        if bytes.is_empty() {
            return fail("it is empty");
        }
        match bytes[0] {
            b'"' => return fail("it is a JSON string; amounts must be bare numbers"),
            b'+' => return fail("a leading + is not allowed"),
            b'.' => return fail("it must start with a digit (write 0.5, not .5)"),
            _ => {}
        }
        let mut at = 0;
        let negative = bytes[0] == b'-';
        if negative {
            at += 1;
        }
        let int_start = at;
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            at += 1;
        }
        let int_digits = &text[int_start..at];
        if int_digits.is_empty() {
            return fail(if text.contains(|c: char| c.is_ascii_alphabetic()) {
                "NaN, Infinity and words are not amounts"
            } else {
                "it has no digits"
            });
        }
        if int_digits.len() > 1 && int_digits.starts_with('0') {
            return fail("leading zeros are not allowed");
        }
        let mut frac_digits = "";
        if at < bytes.len() && bytes[at] == b'.' {
            at += 1;
            let start = at;
            while at < bytes.len() && bytes[at].is_ascii_digit() {
                at += 1;
            }
            frac_digits = &text[start..at];
            if frac_digits.is_empty() {
                return fail("a decimal point must be followed by digits (write 5 or 5.0, not 5.)");
            }
        }
        let mut exponent: i128 = 0;
        if at < bytes.len() && (bytes[at] == b'e' || bytes[at] == b'E') {
            at += 1;
            let mut exp_negative = false;
            if at < bytes.len() && (bytes[at] == b'+' || bytes[at] == b'-') {
                exp_negative = bytes[at] == b'-';
                at += 1;
            }
            let start = at;
            while at < bytes.len() && bytes[at].is_ascii_digit() {
                // Clamp: a body is at most a few MiB, so ±10^15 is as good as infinite.
                exponent = (exponent * 10 + i128::from(bytes[at] - b'0')).min(1_000_000_000_000_000);
                at += 1;
            }
            if at == start {
                return fail("an exponent (e) must be followed by digits");
            }
            if exp_negative {
                exponent = -exponent;
            }
        }
        if at != bytes.len() {
            return fail(match bytes[at] {
                b',' => "use . as the decimal separator, and no thousands separators",
                b if b.is_ascii_whitespace() => "it contains spaces",
                _ => "it has characters a JSON number cannot contain",
            });
        }
        let digits = if frac_digits.is_empty() {
            std::borrow::Cow::Borrowed(int_digits)
        } else {
            std::borrow::Cow::Owned(format!("{int_digits}{frac_digits}"))
        };
        Ok(JsonNumber { negative, digits, scale: frac_digits.len() as i128 - exponent })
    }
}

/// A value quoted in an error message, cut short so a hostile body cannot flood the log.
fn shown(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minor(text: &str, currency: &str) -> i64 {
        decimal_to_minor(text, currency).unwrap_or_else(|e| panic!("{text} {currency} should parse: {e}"))
    }

    fn error(text: &str, currency: &str) -> MoneyError {
        match decimal_to_minor(text, currency) {
            Ok(v) => panic!("{text} {currency} should fail, got {v}"),
            Err(e) => e,
        }
    }

    #[test]
    fn exponents_of_every_class() {
        for (code, places) in [
            ("USD", 2),
            ("EUR", 2),
            ("GBP", 2),
            ("HUF", 2),
            ("IDR", 2),
            ("MGA", 2),
            ("JPY", 0),
            ("KRW", 0),
            ("VND", 0),
            ("CLP", 0),
            ("ISK", 0),
            ("UGX", 0),
            ("XAF", 0),
            ("XOF", 0),
            ("XPF", 0),
            ("PYG", 0),
            ("UYI", 0),
            ("VUV", 0),
            ("KWD", 3),
            ("BHD", 3),
            ("OMR", 3),
            ("JOD", 3),
            ("TND", 3),
            ("LYD", 3),
            ("IQD", 3),
            ("CLF", 4),
            ("UYW", 4),
            ("XCG", 2),
            ("ZWG", 2),
            ("SLE", 2),
            ("VED", 2),
            ("XAD", 2),
        ] {
            assert_eq!(exponent(code), Some(places), "{code}");
        }
    }

    #[test]
    fn exponent_is_case_insensitive() {
        assert_eq!(exponent("usd"), Some(2));
        assert_eq!(exponent("Jpy"), Some(0));
        assert_eq!(exponent("kwD"), Some(3));
    }

    #[test]
    fn exponent_of_unknown_or_unitless_codes_is_none() {
        for code in ["", "US", "USDT", "XYZ", "BTC", "XAU", "XDR", "XXX", "XTS", "U$D", " usd", "ÜSD"] {
            assert_eq!(exponent(code), None, "{code:?}");
        }
    }

    #[test]
    fn recently_withdrawn_codes_still_read() {
        assert_eq!(exponent("BGN"), Some(2));
        assert_eq!(exponent("HRK"), Some(2));
        assert_eq!(exponent("ANG"), Some(2));
    }

    #[test]
    fn table_has_no_duplicates_and_only_upper_case_codes() {
        let mut codes: Vec<&str> = ACTIVE.iter().chain(RECENTLY_WITHDRAWN).map(|(c, _)| *c).collect();
        assert!(codes.iter().all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())));
        let total = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), total);
        assert!(ACTIVE.len() >= 150, "the active list looks truncated: {}", ACTIVE.len());
    }

    #[test]
    fn normalize_currency_trims_and_upper_cases() {
        assert_eq!(normalize_currency("usd").unwrap(), "USD");
        assert_eq!(normalize_currency("  eur\n").unwrap(), "EUR");
        assert_eq!(normalize_currency("JPY").unwrap(), "JPY");
    }

    #[test]
    fn normalize_currency_rejects_unknown_codes() {
        for code in ["", "  ", "dollars", "XYZ", "US D", "btc"] {
            let e = normalize_currency(code).unwrap_err();
            assert!(matches!(e, MoneyError::UnknownCurrency { .. }), "{code:?}: {e}");
        }
        let message = normalize_currency("xyz").unwrap_err().to_string();
        assert!(message.contains("`xyz`") && message.contains("ISO 4217"), "{message}");
    }

    #[test]
    fn two_decimal_currencies() {
        assert_eq!(minor("10.43", "USD"), 1043);
        assert_eq!(minor("10.43", "usd"), 1043);
        assert_eq!(minor("0.1", "USD"), 10);
        assert_eq!(minor("0.01", "USD"), 1);
        assert_eq!(minor("10", "USD"), 1000);
        assert_eq!(minor("0", "USD"), 0);
        assert_eq!(minor("-0", "USD"), 0);
        assert_eq!(minor("0.00", "EUR"), 0);
        assert_eq!(minor("19.99", "EUR"), 1999);
        // The classic float traps: 0.1 + 0.2 style values stay exact.
        assert_eq!(minor("0.29", "USD"), 29);
        assert_eq!(minor("1.15", "USD"), 115);
        assert_eq!(minor("4.35", "USD"), 435);
        assert_eq!(minor("1005.99", "USD"), 100599);
    }

    #[test]
    fn trailing_zeros_beyond_the_exponent_are_fine() {
        assert_eq!(minor("10.430", "USD"), 1043);
        assert_eq!(minor("10.4300000000000000000000000000", "USD"), 1043);
        assert_eq!(minor("100.000", "JPY"), 100);
        assert_eq!(minor("1.5000", "KWD"), 1500);
    }

    #[test]
    fn exponents_in_the_number() {
        assert_eq!(minor("1e2", "USD"), 10000);
        assert_eq!(minor("1E2", "USD"), 10000);
        assert_eq!(minor("1.5E+1", "USD"), 1500);
        assert_eq!(minor("1.5e+1", "JPY"), 15);
        assert_eq!(minor("1043e-2", "USD"), 1043);
        assert_eq!(minor("10430e-3", "USD"), 1043);
        assert_eq!(minor("0e999999999999999999999", "USD"), 0);
        assert_eq!(minor("0.0e-999999999999999999999", "USD"), 0);
        assert_eq!(minor("5e-1", "USD"), 50);
        assert_eq!(minor("123.45e1", "USD"), 123450);
    }

    #[test]
    fn zero_decimal_currencies() {
        assert_eq!(minor("1500", "JPY"), 1500);
        assert_eq!(minor("1500", "krw"), 1500);
        assert_eq!(minor("250000", "VND"), 250000);
        assert_eq!(minor("9990", "CLP"), 9990);
        assert_eq!(minor("1.5e3", "ISK"), 1500);
        assert_eq!(minor("50000", "UGX"), 50000);
        assert_eq!(minor("655", "XAF"), 655);
        let e = error("1500.5", "JPY");
        assert_eq!(e, MoneyError::TooPrecise { value: "1500.5".into(), currency: "JPY".into(), places: 1, allowed: 0 });
    }

    #[test]
    fn three_and_four_decimal_currencies() {
        assert_eq!(minor("1.234", "KWD"), 1234);
        assert_eq!(minor("0.005", "BHD"), 5);
        assert_eq!(minor("12.5", "OMR"), 12500);
        assert_eq!(minor("7", "JOD"), 7000);
        assert_eq!(minor("3.141", "TND"), 3141);
        assert_eq!(minor("1", "LYD"), 1000);
        assert_eq!(minor("250.250", "IQD"), 250250);
        assert_eq!(minor("1.2345", "CLF"), 12345);
        assert_eq!(minor("0.0001", "UYW"), 1);
        assert!(matches!(error("1.2345", "KWD"), MoneyError::TooPrecise { places: 4, allowed: 3, .. }));
        assert!(matches!(error("1.23456", "CLF"), MoneyError::TooPrecise { places: 5, allowed: 4, .. }));
    }

    #[test]
    fn too_many_decimals_is_an_error_not_a_rounding() {
        let e = error("19.999", "USD");
        assert_eq!(e, MoneyError::TooPrecise { value: "19.999".into(), currency: "USD".into(), places: 3, allowed: 2 });
        let message = e.to_string();
        assert!(message.contains("19.999") && message.contains("USD"), "{message}");
        assert!(message.contains("3 decimal places") && message.contains("at most 2"), "{message}");
        assert!(message.contains("does not round"), "{message}");

        assert!(matches!(error("0.001", "usd"), MoneyError::TooPrecise { places: 3, .. }));
        assert!(matches!(error("1e-3", "USD"), MoneyError::TooPrecise { places: 3, .. }));
        assert!(matches!(error("10.4301", "USD"), MoneyError::TooPrecise { places: 4, .. }));
        assert!(matches!(error("1e-999999999999999999999", "USD"), MoneyError::TooPrecise { .. }));
    }

    #[test]
    fn negative_amounts() {
        assert_eq!(minor("-3.20", "USD"), -320);
        assert_eq!(minor("-3.2", "USD"), -320);
        assert_eq!(minor("-1e2", "JPY"), -100);
        assert_eq!(minor("-0.005", "KWD"), -5);
        assert!(matches!(error("-19.999", "USD"), MoneyError::TooPrecise { .. }));
    }

    #[test]
    fn big_values_and_overflow() {
        assert_eq!(minor("92233720368547758.07", "USD"), i64::MAX);
        assert_eq!(minor("-92233720368547758.08", "USD"), i64::MIN);
        assert_eq!(minor("9223372036854775807", "JPY"), i64::MAX);
        assert_eq!(minor("1000000000000", "USD"), 100_000_000_000_000);
        assert_eq!(minor("9.2233720368547758070e16", "USD"), i64::MAX);
        for (text, currency) in [
            ("92233720368547758.08", "USD"),
            ("-92233720368547758.09", "USD"),
            ("9223372036854775808", "JPY"),
            ("1e17", "USD"),
            ("1e19", "JPY"),
            ("1e999999999999999999999", "USD"),
            ("123456789012345678901234567890123456789012345", "JPY"),
        ] {
            let e = error(text, currency);
            assert!(matches!(e, MoneyError::Overflow { .. }), "{text}: {e}");
        }
        let message = error("1e17", "USD").to_string();
        assert!(message.contains("1e17 USD") && message.contains("too large"), "{message}");
    }

    #[test]
    fn malformed_numbers_are_rejected_with_a_reason() {
        for (text, hint) in [
            ("\"10.43\"", "string"),
            ("NaN", "NaN"),
            ("-Infinity", "NaN"),
            ("Infinity", "NaN"),
            ("1,5", "decimal separator"),
            ("1,000.00", "decimal separator"),
            (".5", "start with a digit"),
            ("5.", "followed by digits"),
            ("", "empty"),
            ("   ", "empty"),
            ("+5", "leading +"),
            ("-", "no digits"),
            ("-.5", "no digits"),
            ("01", "leading zeros"),
            ("-007", "leading zeros"),
            ("1e", "exponent"),
            ("1e+", "exponent"),
            ("1.5.5", "cannot contain"),
            ("10 43", "spaces"),
            ("0x10", "cannot contain"),
            ("1_000", "cannot contain"),
            ("１", "no digits"),
            ("null", "NaN"),
            ("true", "NaN"),
        ] {
            let e = error(text, "USD");
            assert!(matches!(e, MoneyError::NotANumber { .. }), "{text:?}: {e}");
            let message = e.to_string();
            assert!(message.contains(hint), "{text:?}: {message}");
        }
    }

    #[test]
    fn surrounding_json_whitespace_is_ignored() {
        assert_eq!(minor(" 10.43\n", "USD"), 1043);
    }

    #[test]
    fn unknown_currency_is_reported_before_the_number() {
        assert_eq!(error("10", "XYZ"), MoneyError::UnknownCurrency { code: "XYZ".into() });
        assert_eq!(error("10", ""), MoneyError::UnknownCurrency { code: "".into() });
    }

    #[test]
    fn long_values_are_cut_short_in_messages() {
        let long = format!("{}x", "1".repeat(500));
        let message = error(&long, "USD").to_string();
        assert!(message.len() < 200, "{message}");
        assert!(message.contains('…'));
    }

    #[test]
    fn integer_minor_reads_paddle_strings() {
        assert_eq!(integer_minor("65215"), Ok(65215));
        assert_eq!(integer_minor("0"), Ok(0));
        assert_eq!(integer_minor("-100"), Ok(-100));
        assert_eq!(integer_minor("007"), Ok(7));
        assert_eq!(integer_minor("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(integer_minor("-9223372036854775808"), Ok(i64::MIN));
    }

    #[test]
    fn integer_minor_rejects_everything_else() {
        for (text, hint) in [
            ("", "no digits"),
            ("-", "no digits"),
            ("652.15", "decimal separator"),
            ("652,15", "decimal separator"),
            ("1e3", "exponent"),
            ("+5", "leading +"),
            (" 5", "spaces"),
            ("5 ", "spaces"),
            ("5-", "minus sign"),
            ("--5", "minus sign"),
            ("\"5\"", "only digits"),
            ("abc", "only digits"),
            ("9223372036854775808", "64-bit"),
        ] {
            let e = integer_minor(text).unwrap_err();
            let message = e.to_string();
            assert!(matches!(e, MoneyError::NotMinorUnits { .. }), "{text:?}: {message}");
            assert!(message.contains(hint), "{text:?}: {message}");
        }
    }
}
