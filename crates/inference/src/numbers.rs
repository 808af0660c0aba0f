//! Range checks for integers that arrive as JS numbers (`f64`). napi's `u32` conversion is
//! ToUint32: 4294967300 becomes 4 and -1 becomes 4294967295. The bindings take such options as
//! `f64` and check them here, so a bad value is `E_BAD_INPUT` instead of a different number.

use crate::error::{InferenceError, Result};

/// An integer in `min..=u32::MAX`.
pub fn checked_u32(name: &str, value: f64, min: u32) -> Result<u32> {
    let in_range = value.is_finite()
        && value.fract() == 0.0
        && value >= f64::from(min)
        && value <= f64::from(u32::MAX);
    if !in_range {
        return Err(InferenceError::bad_input(format!(
            "{name} must be an integer from {min} to {}, got {value}",
            u32::MAX
        )));
    }
    Ok(value as u32)
}

/// `checked_u32` of an optional value.
pub fn optional_u32(name: &str, value: Option<f64>, min: u32) -> Result<Option<u32>> {
    value.map(|v| checked_u32(name, v, min)).transpose()
}

/// A seed: an integer in `0..2^64`.
pub fn checked_seed(value: f64) -> Result<u64> {
    // 2^64 is exactly representable; every integer below it fits a u64.
    const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
    if !value.is_finite() || value.fract() != 0.0 || !(0.0..TWO_POW_64).contains(&value) {
        return Err(InferenceError::bad_input(format!(
            "seed must be an integer from 0 to 2^64-1, got {value}"
        )));
    }
    Ok(value as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u32_values_outside_the_range_are_refused_not_wrapped() {
        assert_eq!(
            checked_u32("maxTokens", 4_294_967_295.0, 1).unwrap(),
            u32::MAX
        );
        assert_eq!(checked_u32("maxTokens", 1.0, 1).unwrap(), 1);
        for bad in [4_294_967_300.0, 0.0, -1.0, 2.5, f64::NAN, f64::INFINITY] {
            let err = checked_u32("maxTokens", bad, 1).unwrap_err();
            assert_eq!(err.code(), "E_BAD_INPUT");
            assert!(
                err.to_string()
                    .starts_with("bad input: maxTokens must be an integer from 1 to 4294967295"),
                "{err}"
            );
        }
        assert_eq!(optional_u32("topK", None, 0).unwrap(), None);
        assert_eq!(optional_u32("topK", Some(0.0), 0).unwrap(), Some(0));
    }

    #[test]
    fn seeds_must_fit_64_bits() {
        assert_eq!(checked_seed(0.0).unwrap(), 0);
        assert_eq!(checked_seed(9_007_199_254_740_992.0).unwrap(), 1 << 53);
        // The largest f64 below 2^64.
        assert_eq!(
            checked_seed(18_446_744_073_709_549_568.0).unwrap(),
            u64::MAX - 2047
        );
        for bad in [18_446_744_073_709_551_616.0, 1e20, -1.0, 0.5] {
            assert_eq!(checked_seed(bad).unwrap_err().code(), "E_BAD_INPUT");
        }
    }
}
