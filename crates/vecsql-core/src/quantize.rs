//! Quantizers that turn float vectors into smaller element types.

use crate::vector::BitVector;
use crate::VectorError;

/// Sign quantization: element `i` becomes 1 when it is greater than zero (NaN and -0.0 give 0).
/// sqlite-vec only quantizes whole bytes.
pub fn binary(values: impl ExactSizeIterator<Item = f32>) -> Result<BitVector, VectorError> {
    if !values.len().is_multiple_of(8) {
        return Err(VectorError::BinaryQuantizeLength { dims: values.len() });
    }
    let values: Vec<f32> = values.collect();
    binary_slice(&values)
}

/// [`binary`] for a slice, a byte at a time (the per-bit iterator showed up in insert profiles).
pub fn binary_slice(values: &[f32]) -> Result<BitVector, VectorError> {
    if !values.len().is_multiple_of(8) {
        return Err(VectorError::BinaryQuantizeLength { dims: values.len() });
    }
    let bytes = values
        .chunks_exact(8)
        .map(|group| {
            group
                .iter()
                .enumerate()
                .fold(0u8, |byte, (i, &v)| byte | (u8::from(v > 0.0) << i))
        })
        .collect();
    BitVector::new(bytes, values.len())
}

/// Linear int8 quantization of `[min, max]` onto `[-128, 127]`, with sqlite-vec's arithmetic
/// so results match it byte for byte: the step is rounded to f32, the rest is computed in f64,
/// values are truncated toward zero, out-of-range values clamp, NaN maps to 127.
pub fn int8_range(values: &[f32], min: f32, max: f32) -> Result<Vec<i8>, VectorError> {
    if min >= max || !min.is_finite() || !max.is_finite() {
        return Err(VectorError::Int8QuantizeRange { min, max });
    }
    let step = ((max as f64 - min as f64) / 255.0) as f32 as f64;
    Ok(values
        .iter()
        .map(|&x| {
            let v = ((x as f64 - min as f64) / step) - 128.0;
            // Branch-free so the loop vectorises; `as` truncates toward zero like C's cast.
            let v = if v.is_nan() { 127.0 } else { v };
            v.clamp(-128.0, 127.0) as i8
        })
        .collect())
}

/// sqlite-vec's `'unit'` quantizer: the range [-1, 1], right for unit-normalised embeddings.
pub fn int8_unit(values: &[f32]) -> Vec<i8> {
    int8_range(values, -1.0, 1.0).expect("[-1, 1] is a valid range")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_matches_sqlite_vec_bytes() {
        // Captured from sqlite-vec 0.1.9.
        assert_eq!(int8_unit(&[0.1, -0.5, 1.0]), vec![12, -64, 126]);
        assert_eq!(int8_unit(&[1.0, -1.0, 0.0]), vec![126, -128, 0]);
        assert_eq!(int8_unit(&[0.999, -0.999, -0.004]), vec![126, -127, -1]);
        assert_eq!(int8_unit(&[2.0, -2.0, f32::NAN]), vec![127, -128, 127]);
    }

    #[test]
    fn explicit_ranges_map_ends_to_the_int8_ends() {
        assert_eq!(
            int8_range(&[0.0, 10.0], 0.0, 10.0).unwrap(),
            vec![-128, 126]
        );
        assert!(int8_range(&[1.0], 1.0, 1.0).is_err());
    }

    #[test]
    fn binary_sets_positive_elements() {
        let bits = binary([1.0, -1.0, 0.0, -0.0, 2.0, f32::NAN, 0.1, -3.0].into_iter()).unwrap();
        assert_eq!(bits.bytes(), &[0b0101_0001]);
        assert!(binary([1.0; 7].into_iter()).is_err());
    }
}
