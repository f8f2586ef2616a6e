//! Python's number semantics, as JMESPath functions see them.
//!
//! Python keeps `int` (unbounded) apart from `float`: `sum([1, 2])` is `3`,
//! `avg` is a true division, `ceil(1.5)` is the int `2`, and `1 == 1.0` while
//! an int and a float compare exactly (no rounding of the int). Ints travel as
//! canonical decimal text in [`crate::py::PyValue::Int`]; this module parses
//! them into a small sign-magnitude integer for the few operations that need
//! arithmetic: compare, add, convert to/from float, divide by a length.

use std::cmp::Ordering;

/// Base of one limb: nine decimal digits, so decimal text converts limb by limb.
const BASE: u64 = 1_000_000_000;

/// An unbounded integer: sign and little-endian base-10^9 limbs, no high zero limbs (zero is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BigInt {
    neg: bool,
    mag: Vec<u32>,
}

impl BigInt {
    pub(crate) fn zero() -> BigInt {
        BigInt { neg: false, mag: Vec::new() }
    }

    /// Parses decimal text: optional `-`, ASCII digits (leading zeros allowed).
    pub(crate) fn parse(text: &str) -> BigInt {
        let (neg, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let digits = digits.as_bytes();
        let mut mag = Vec::with_capacity(digits.len() / 9 + 1);
        let mut end = digits.len();
        while end > 0 {
            let start = end.saturating_sub(9);
            let limb = digits[start..end].iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
            mag.push(limb);
            end = start;
        }
        let mut n = BigInt { neg, mag };
        n.trim();
        n
    }

    fn trim(&mut self) {
        while self.mag.last() == Some(&0) {
            self.mag.pop();
        }
        if self.mag.is_empty() {
            self.neg = false;
        }
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.mag.is_empty()
    }

    pub(crate) fn abs(&self) -> BigInt {
        BigInt { neg: false, mag: self.mag.clone() }
    }

    /// The magnitude when it fits in a u64.
    fn mag_u64(&self) -> Option<u64> {
        let mut v: u64 = 0;
        for &limb in self.mag.iter().rev() {
            v = v.checked_mul(BASE)?.checked_add(u64::from(limb))?;
        }
        Some(v)
    }

    fn cmp_mag(a: &[u32], b: &[u32]) -> Ordering {
        a.len().cmp(&b.len()).then_with(|| a.iter().rev().cmp(b.iter().rev()))
    }

    fn add_mag(a: &[u32], b: &[u32]) -> Vec<u32> {
        let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
        let mut carry = 0u64;
        for i in 0..a.len().max(b.len()) {
            let s = u64::from(*a.get(i).unwrap_or(&0)) + u64::from(*b.get(i).unwrap_or(&0)) + carry;
            out.push((s % BASE) as u32);
            carry = s / BASE;
        }
        if carry > 0 {
            out.push(carry as u32);
        }
        out
    }

    /// `a - b` for magnitudes with `a >= b`.
    fn sub_mag(a: &[u32], b: &[u32]) -> Vec<u32> {
        let mut out = Vec::with_capacity(a.len());
        let mut borrow = 0i64;
        for (i, &limb) in a.iter().enumerate() {
            let mut d = i64::from(limb) - i64::from(*b.get(i).unwrap_or(&0)) - borrow;
            borrow = 0;
            if d < 0 {
                d += BASE as i64;
                borrow = 1;
            }
            out.push(d as u32);
        }
        out
    }

    pub(crate) fn add(&self, other: &BigInt) -> BigInt {
        let mut r = if self.neg == other.neg {
            BigInt { neg: self.neg, mag: Self::add_mag(&self.mag, &other.mag) }
        } else if Self::cmp_mag(&self.mag, &other.mag) != Ordering::Less {
            BigInt { neg: self.neg, mag: Self::sub_mag(&self.mag, &other.mag) }
        } else {
            BigInt { neg: other.neg, mag: Self::sub_mag(&other.mag, &self.mag) }
        };
        r.trim();
        r
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for limb in &mut self.mag {
            let p = u64::from(*limb) * u64::from(m) + carry;
            *limb = (p % BASE) as u32;
            carry = p / BASE;
        }
        while carry > 0 {
            self.mag.push((carry % BASE) as u32);
            carry /= BASE;
        }
        self.trim();
    }

    /// Divides the magnitude by `d`, returning the remainder.
    fn divmod_small(&mut self, d: u64) -> u64 {
        let mut rem: u128 = 0;
        for limb in self.mag.iter_mut().rev() {
            let cur = rem * u128::from(BASE) + u128::from(*limb);
            *limb = (cur / u128::from(d)) as u32;
            rem = cur % u128::from(d);
        }
        self.trim();
        rem as u64
    }

    /// The exact integer value of a finite float that has no fractional part.
    pub(crate) fn from_integral_f64(f: f64) -> BigInt {
        debug_assert!(f.is_finite() && f.fract() == 0.0);
        let bits = f.to_bits();
        let neg = bits >> 63 == 1;
        let exp = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        if exp == 0 {
            // Zero (an integral subnormal is impossible).
            return BigInt::zero();
        }
        let mantissa = frac | (1u64 << 52);
        let shift = exp - 1075;
        let mut n = if shift >= 0 {
            BigInt::parse(&mantissa.to_string())
        } else {
            BigInt::parse(&(mantissa >> (-shift)).to_string())
        };
        let mut remaining = shift.max(0);
        while remaining > 0 {
            let step = remaining.min(29);
            n.mul_small(1u32 << step);
            remaining -= step;
        }
        n.neg = neg && !n.is_zero();
        n
    }

    /// Python's `float(int)`: correctly rounded; `None` when it overflows.
    pub(crate) fn to_f64(&self) -> Option<f64> {
        let f: f64 = self.to_string().parse().expect("decimal text parses as a float");
        f.is_finite().then_some(f)
    }

    /// Python's `int / int` for a positive small divisor (`avg`'s `sum / len`): correctly rounded.
    pub(crate) fn true_div(&self, d: u64) -> Result<f64, String> {
        const EXACT: u64 = 1 << 53;
        if let Some(m) = self.mag_u64().filter(|&m| m <= EXACT)
            && d <= EXACT
        {
            let q = m as f64 / d as f64;
            return Ok(if self.neg { -q } else { q });
        }
        // Long division to enough significant digits that no rounding boundary
        // between two doubles (at most ~770 significant digits) can hide below
        // the last digit, plus a sticky digit for a nonzero remainder.
        let mut q = self.abs();
        let mut rem = u128::from(q.divmod_small(d));
        let mut text = String::new();
        if self.neg {
            text.push('-');
        }
        let int_part = q.to_string();
        let significant = if q.is_zero() { 0 } else { int_part.len() };
        text.push_str(&int_part);
        text.push('.');
        let mut produced = significant;
        let mut leading = q.is_zero();
        let mut frac_digits = 0usize;
        while rem != 0 && (produced < 800 || frac_digits == 0) {
            rem *= 10;
            let digit = (rem / u128::from(d)) as u8;
            rem %= u128::from(d);
            text.push((b'0' + digit) as char);
            frac_digits += 1;
            if digit != 0 {
                leading = false;
            }
            if !leading {
                produced += 1;
            }
        }
        if rem != 0 {
            text.push('1');
        }
        if frac_digits == 0 && rem == 0 {
            text.push('0');
        }
        let f: f64 = text.parse().expect("decimal text parses as a float");
        if f.is_finite() { Ok(f) } else { Err("integer division result too large for a float".into()) }
    }
}

impl std::fmt::Display for BigInt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.mag.is_empty() {
            return f.write_str("0");
        }
        if self.neg {
            f.write_str("-")?;
        }
        let mut iter = self.mag.iter().rev();
        write!(f, "{}", iter.next().expect("nonempty"))?;
        for limb in iter {
            write!(f, "{limb:09}")?;
        }
        Ok(())
    }
}

impl Ord for BigInt {
    fn cmp(&self, other: &BigInt) -> Ordering {
        match (self.neg, other.neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => Self::cmp_mag(&self.mag, &other.mag),
            (true, true) => Self::cmp_mag(&other.mag, &self.mag),
        }
    }
}

impl PartialOrd for BigInt {
    fn partial_cmp(&self, other: &BigInt) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A Python number: `int` or `float`.
#[derive(Debug, Clone)]
pub(crate) enum Num {
    Int(BigInt),
    Float(f64),
}

impl Num {
    /// Python's comparison of two numbers, exact across int and float; `None` when unordered (NaN).
    pub(crate) fn partial_cmp(&self, other: &Num) -> Option<Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(b)),
            (Num::Float(a), Num::Float(b)) => a.partial_cmp(b),
            (Num::Int(a), Num::Float(b)) => cmp_int_float(a, *b),
            (Num::Float(a), Num::Int(b)) => cmp_int_float(b, *a).map(Ordering::reverse),
        }
    }

    /// Python's `a + b`.
    pub(crate) fn add(&self, other: &Num) -> Result<Num, String> {
        Ok(match (self, other) {
            (Num::Int(a), Num::Int(b)) => Num::Int(a.add(b)),
            (Num::Float(a), Num::Float(b)) => Num::Float(a + b),
            (Num::Int(a), Num::Float(b)) => Num::Float(int_to_float(a)? + b),
            (Num::Float(a), Num::Int(b)) => Num::Float(a + int_to_float(b)?),
        })
    }
}

/// Python's `float(int)`.
pub(crate) fn int_to_float(i: &BigInt) -> Result<f64, String> {
    i.to_f64().ok_or_else(|| "int too large to convert to float".to_string())
}

fn cmp_int_float(a: &BigInt, b: f64) -> Option<Ordering> {
    if b.is_nan() {
        return None;
    }
    if b.is_infinite() {
        return Some(if b > 0.0 { Ordering::Less } else { Ordering::Greater });
    }
    let floor = b.floor();
    let fl = BigInt::from_integral_f64(floor);
    let c = a.cmp(&fl);
    if floor == b {
        Some(c)
    } else if c == Ordering::Greater {
        Some(Ordering::Greater)
    } else {
        // a <= floor(b) < b
        Some(Ordering::Less)
    }
}

/// `math.floor` / `math.ceil` of a float: an int, or Python's error for inf/NaN.
pub(crate) fn float_to_int(f: f64) -> Result<BigInt, String> {
    if f.is_nan() {
        return Err("cannot convert float NaN to integer".into());
    }
    if f.is_infinite() {
        return Err("cannot convert float infinity to integer".into());
    }
    Ok(BigInt::from_integral_f64(f))
}

/// Python's `str.isspace()` for one character.
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The first code point of each run of ten Unicode decimal digits (category Nd):
/// Python's `int()` and `float()` accept any of them as digits.
const DIGIT_ZEROS: [u32; 66] = [
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6, 0xe50, 0xed0,
    0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620,
    0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0,
    0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60,
    0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

fn decimal_value(c: char) -> Option<u8> {
    let n = c as u32;
    DIGIT_ZEROS.iter().find(|&&z| n >= z && n < z + 10).map(|z| (n - z) as u8)
}

/// What Python's number parsers see: whitespace stripped, Unicode digits made ASCII.
fn normalize_number_text(s: &str) -> String {
    s.trim_matches(is_py_space).chars().map(|c| decimal_value(c).map_or(c, |d| (b'0' + d) as char)).collect()
}

/// Removes underscores that sit between two digits; `None` if any other underscore is present.
fn strip_digit_underscores(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            let ok = i > 0 && b[i - 1].is_ascii_digit() && b.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !ok {
                return None;
            }
        } else {
            out.push(c as char);
        }
    }
    Some(out)
}

/// Python's `int(s)` for a str: `Err` is the `ValueError` case.
pub(crate) fn parse_py_int(s: &str) -> Result<BigInt, ()> {
    let t = normalize_number_text(s);
    let t = strip_digit_underscores(&t).ok_or(())?;
    let digits = t.strip_prefix(['+', '-']).unwrap_or(&t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    // Python 3.11 refuses to convert more than 4300 digits (sys.int_info.default_max_str_digits).
    if digits.len() > 4300 {
        return Err(());
    }
    Ok(BigInt::parse(&t))
}

/// Python's `float(s)` for a str: `Err` is the `ValueError` case.
pub(crate) fn parse_py_float(s: &str) -> Result<f64, ()> {
    let t = normalize_number_text(s);
    let body = t.strip_prefix(['+', '-']).unwrap_or(&t);
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return t.to_ascii_lowercase().parse::<f64>().map_err(|_| ());
    }
    let t = strip_digit_underscores(&t).ok_or(())?;
    let body = t.strip_prefix(['+', '-']).unwrap_or(&t);
    // [digits][.digits][(e|E)[sign]digits] with at least one digit in the mantissa.
    let b = body.as_bytes();
    let mut i = 0;
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut mantissa_digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        mantissa_digits += i - frac_start;
    }
    if mantissa_digits == 0 {
        return Err(());
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return Err(());
        }
    }
    if i != b.len() {
        return Err(());
    }
    t.parse::<f64>().map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigint_round_trips_and_adds() {
        let a = BigInt::parse("99999999999999999999");
        assert_eq!(a.to_string(), "99999999999999999999");
        assert_eq!(a.add(&BigInt::parse("1")).to_string(), "100000000000000000000");
        assert_eq!(BigInt::parse("-5").add(&BigInt::parse("3")).to_string(), "-2");
        assert_eq!(BigInt::parse("-0").to_string(), "0");
        assert_eq!(BigInt::parse("007").to_string(), "7");
        assert!(BigInt::parse("-10") < BigInt::parse("-9"));
    }

    #[test]
    fn floats_convert_exactly() {
        assert_eq!(BigInt::from_integral_f64(1e20).to_string(), "100000000000000000000");
        assert_eq!(BigInt::from_integral_f64(-3.0).to_string(), "-3");
        assert_eq!(BigInt::from_integral_f64(2f64.powi(70)).to_string(), "1180591620717411303424");
        let n = Num::Int(BigInt::parse("9007199254740993"));
        assert_eq!(n.partial_cmp(&Num::Float(9007199254740992.0)), Some(Ordering::Greater));
        assert_eq!(Num::Int(BigInt::parse("2")).partial_cmp(&Num::Float(2.5)), Some(Ordering::Less));
        assert_eq!(Num::Int(BigInt::parse("-3")).partial_cmp(&Num::Float(-2.5)), Some(Ordering::Less));
        assert_eq!(Num::Int(BigInt::parse("-2")).partial_cmp(&Num::Float(-2.5)), Some(Ordering::Greater));
    }

    #[test]
    fn division_is_correctly_rounded() {
        assert_eq!(BigInt::parse("10").true_div(4).unwrap(), 2.5);
        let big = BigInt::parse("100000000000000000000000000001");
        assert_eq!(big.true_div(3).unwrap(), 3.3333333333333333e28);
        assert_eq!(BigInt::parse("-90071992547409930").true_div(10).unwrap(), -9007199254740993.0);
    }

    #[test]
    fn python_number_text() {
        assert_eq!(parse_py_int(" 1_000 ").unwrap().to_string(), "1000");
        assert_eq!(parse_py_int("\u{661}\u{662}").unwrap().to_string(), "12");
        assert!(parse_py_int("1__0").is_err());
        assert!(parse_py_int("1.0").is_err());
        assert_eq!(parse_py_float("1.5e3"), Ok(1500.0));
        assert_eq!(parse_py_float(".5"), Ok(0.5));
        assert_eq!(parse_py_float("5."), Ok(5.0));
        assert!(parse_py_float("-InFinity").unwrap().is_infinite());
        assert!(parse_py_float("e5").is_err());
        assert!(parse_py_float("1e").is_err());
        assert!(parse_py_float("").is_err());
    }
}
