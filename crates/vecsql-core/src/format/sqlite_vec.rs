//! sqlite-vec's vector blobs: no header, little-endian elements.
//! - float32: 4 bytes per element;
//! - int8: 1 byte per element;
//! - bit: 8 elements per byte, element `i` in bit `i % 8` of byte `i / 8`.
//!
//! The element type is not in the blob; SQL subtypes (see [`crate::vector`]) or the column
//! declaration say which it is.

use crate::vector::BitVector;
use crate::VectorError;

pub fn decode_f32(blob: &[u8]) -> Result<Vec<f32>, VectorError> {
    if blob.is_empty() {
        return Err(VectorError::Empty);
    }
    if !blob.len().is_multiple_of(4) {
        return Err(VectorError::Float32BlobLength { found: blob.len() });
    }
    Ok(blob
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

pub fn encode_f32(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn decode_i8(blob: &[u8]) -> Result<Vec<i8>, VectorError> {
    if blob.is_empty() {
        return Err(VectorError::Empty);
    }
    Ok(blob.iter().map(|&b| b as i8).collect())
}

pub fn encode_i8(values: &[i8]) -> Vec<u8> {
    values.iter().map(|&v| v as u8).collect()
}

/// A bit blob holds `8 * len` elements: sqlite-vec has no way to store a partial last byte.
pub fn decode_bit(blob: &[u8]) -> Result<BitVector, VectorError> {
    if blob.is_empty() {
        return Err(VectorError::Empty);
    }
    BitVector::new(blob.to_vec(), blob.len() * 8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_lengths_that_are_not_whole_floats() {
        let err = decode_f32(&[0, 0, 0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid float32 vector BLOB length. Must be divisible by 4, found 3"
        );
        assert_eq!(decode_f32(&[]).unwrap_err(), VectorError::Empty);
        assert_eq!(decode_i8(&[]).unwrap_err(), VectorError::Empty);
        assert_eq!(decode_bit(&[]).unwrap_err(), VectorError::Empty);
    }

    #[test]
    fn bit_blobs_count_eight_elements_per_byte() {
        let v = decode_bit(&[0b1010_0101, 0x80]).unwrap();
        assert_eq!(v.dims(), 16);
        assert!(v.get(0) && !v.get(1) && v.get(2) && v.get(15));
    }

    proptest! {
        #[test]
        fn f32_round_trips(values in proptest::collection::vec(any::<f32>(), 1..300)) {
            let back = decode_f32(&encode_f32(&values)).unwrap();
            prop_assert_eq!(
                back.iter().map(|f| f.to_bits()).collect::<Vec<_>>(),
                values.iter().map(|f| f.to_bits()).collect::<Vec<_>>()
            );
        }

        #[test]
        fn i8_round_trips(values in proptest::collection::vec(any::<i8>(), 1..300)) {
            prop_assert_eq!(decode_i8(&encode_i8(&values)).unwrap(), values);
        }
    }
}
