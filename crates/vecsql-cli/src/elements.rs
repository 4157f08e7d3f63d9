//! How float vectors (from the readers, or `search --vector`) become a column's elements. Float columns take
//! them as they are (vec0 rounds to float16/bfloat16). int8 and bit columns take only values
//! they hold exactly (integers in -128..=127; 0 and 1), unless `--quantize` names the mapping,
//! the one sqlite-vec's `vec_quantize_int8` / `vec_quantize_binary` apply: a silently rounded
//! or clamped embedding would import without error and search badly.

use std::fmt;

use anyhow::{bail, Result};
use vecsql::vec0::schema::VectorElement;
use vecsql_core::quantize;

/// `--quantize`: how floats map onto int8 or bit elements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quantize {
    /// int8: [-1, 1] onto -128..=127, `vec_quantize_int8(v, 'unit')`.
    Unit,
    /// int8: [min, max] onto -128..=127, `vec_quantize_int8(v, min, max)`.
    Range(f32, f32),
    /// bit: 1 where the element is greater than 0, `vec_quantize_binary(v)`.
    Sign,
}

impl fmt::Display for Quantize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quantize::Unit => write!(f, "unit"),
            Quantize::Range(min, max) => write!(f, "{min}:{max}"),
            Quantize::Sign => write!(f, "sign"),
        }
    }
}

/// clap's parser for `--quantize`.
pub fn quantize_arg(arg: &str) -> Result<Quantize, String> {
    match arg.trim().to_ascii_lowercase().as_str() {
        "unit" => return Ok(Quantize::Unit),
        "sign" => return Ok(Quantize::Sign),
        _ => {}
    }
    let range = arg
        .split_once(':')
        .and_then(|(a, b)| Some((a.trim().parse::<f32>().ok()?, b.trim().parse::<f32>().ok()?)));
    match range {
        Some((min, max)) if min.is_finite() && max.is_finite() && min < max => {
            Ok(Quantize::Range(min, max))
        }
        _ => Err(format!(
            "{arg:?}: expected unit, sign or MIN:MAX with MIN < MAX (e.g. -0.5:0.5)"
        )),
    }
}

/// Turns float vectors into a column's stored elements.
#[derive(Debug, Clone, Copy)]
pub struct Encoder {
    element: VectorElement,
    quantize: Option<Quantize>,
}

impl Encoder {
    /// An encoder for `element`, refusing a `--quantize` that does not fit it.
    pub fn new(element: VectorElement, quantize: Option<Quantize>) -> Result<Encoder> {
        match (element, quantize) {
            (_, None)
            | (VectorElement::Int8, Some(Quantize::Unit | Quantize::Range(..)))
            | (VectorElement::Bit, Some(Quantize::Sign)) => {}
            (VectorElement::Int8, Some(q)) => {
                bail!("--quantize {q} is for bit columns; an int8 column takes unit or MIN:MAX")
            }
            (VectorElement::Bit, Some(q)) => {
                bail!("--quantize {q} is for int8 columns; a bit column takes sign")
            }
            (other, Some(q)) => bail!(
                "--quantize {q} applies to int8 and bit columns; this one is {}",
                other.name()
            ),
        }
        Ok(Encoder { element, quantize })
    }

    /// The SQL expression the insert binds the blob through (`n`: the parameter's number), so
    /// that vec0 reads it as the column's type.
    pub fn bind(&self, n: usize) -> String {
        match self.element {
            VectorElement::Int8 => format!("vec_int8(?{n})"),
            VectorElement::Bit => format!("vec_bit(?{n})"),
            _ => format!("?{n}"),
        }
    }

    /// `vector` as the blob to insert: float32 for float columns (vec0 rounds to the column's
    /// type), the column's elements for int8 and bit. The error names the element.
    pub fn insert(&self, vector: &[f32], blob: &mut Vec<u8>) -> Result<(), String> {
        match self.element {
            VectorElement::Int8 | VectorElement::Bit => self.stored(vector, blob),
            _ => {
                blob.clear();
                blob.extend(vector.iter().flat_map(|x| x.to_le_bytes()));
                Ok(())
            }
        }
    }

    /// How `--quantize` would map what [`Encoder::stored`] refused, for an import's message.
    pub fn quantize_hint(&self) -> &'static str {
        match (self.element, self.quantize) {
            (VectorElement::Int8, None) => {
                "; --quantize unit (floats in [-1, 1]) or --quantize MIN:MAX maps floats onto int8"
            }
            (VectorElement::Bit, None) => {
                "; --quantize sign maps floats onto bits (1 where greater than 0)"
            }
            _ => "",
        }
    }

    /// `vector` as the column stores it (what `--resume` compares with the row there).
    pub fn stored(&self, vector: &[f32], blob: &mut Vec<u8>) -> Result<(), String> {
        blob.clear();
        match (self.element, self.quantize) {
            (VectorElement::Float16, _) => blob.extend(
                vector
                    .iter()
                    .flat_map(|x| half::f16::from_f32(*x).to_le_bytes()),
            ),
            (VectorElement::BFloat16, _) => blob.extend(
                vector
                    .iter()
                    .flat_map(|x| half::bf16::from_f32(*x).to_le_bytes()),
            ),
            (VectorElement::Float32, _) => blob.extend(vector.iter().flat_map(|x| x.to_le_bytes())),
            (VectorElement::Int8, Some(Quantize::Unit)) => {
                blob.extend(quantize::int8_unit(vector).iter().map(|&x| x as u8))
            }
            (VectorElement::Int8, Some(Quantize::Range(min, max))) => blob.extend(
                quantize::int8_range(vector, min, max)
                    .map_err(|e| e.to_string())?
                    .iter()
                    .map(|&x| x as u8),
            ),
            (VectorElement::Int8, _) => {
                if let Some((i, x)) = vector.iter().enumerate().find(|(_, x)| {
                    x.fract() != 0.0 || !(f32::from(i8::MIN)..=f32::from(i8::MAX)).contains(*x)
                }) {
                    return Err(format!(
                        "element {i} is {x}, not an integer in -128..127 as an int8 column holds"
                    ));
                }
                blob.extend(vector.iter().map(|&x| x as i8 as u8));
            }
            (VectorElement::Bit, quantize) => {
                if quantize.is_none() {
                    if let Some((i, x)) = vector
                        .iter()
                        .enumerate()
                        .find(|(_, x)| **x != 0.0 && **x != 1.0)
                    {
                        return Err(format!(
                            "element {i} is {x}, not 0 or 1 as a bit column holds"
                        ));
                    }
                }
                let bits = quantize::binary_slice(vector).map_err(|e| e.to_string())?;
                blob.extend_from_slice(bits.bytes());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_arguments() {
        assert_eq!(quantize_arg("UNIT").unwrap(), Quantize::Unit);
        assert_eq!(quantize_arg("-0.5:2").unwrap(), Quantize::Range(-0.5, 2.0));
        assert!(quantize_arg("2:1").is_err());
        assert!(quantize_arg("round").unwrap_err().contains("MIN:MAX"));
    }

    #[test]
    fn int8_takes_exact_integers_or_a_declared_mapping() {
        let mut blob = Vec::new();
        let exact = Encoder::new(VectorElement::Int8, None).unwrap();
        exact.insert(&[-128.0, 0.0, 127.0], &mut blob).unwrap();
        assert_eq!(blob, [0x80, 0, 0x7f]);
        for bad in [0.5, 128.0, -129.0] {
            let err = exact.insert(&[1.0, bad], &mut blob).unwrap_err();
            assert!(
                err.starts_with(&format!("element 1 is {bad}, not an integer")),
                "{err}"
            );
        }
        // The bytes sqlite-vec's vec_quantize_int8(v, 'unit') gives.
        let unit = Encoder::new(VectorElement::Int8, Some(Quantize::Unit)).unwrap();
        unit.insert(&[0.1, -0.5, 1.0], &mut blob).unwrap();
        assert_eq!(blob, [12, (-64i8) as u8, 126]);
        assert!(Encoder::new(VectorElement::Int8, Some(Quantize::Sign)).is_err());
        assert!(Encoder::new(VectorElement::Float32, Some(Quantize::Unit)).is_err());
    }

    #[test]
    fn bit_takes_zeros_and_ones_or_signs() {
        let mut blob = Vec::new();
        let exact = Encoder::new(VectorElement::Bit, None).unwrap();
        exact
            .insert(&[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0], &mut blob)
            .unwrap();
        assert_eq!(blob, [0b1000_0001]);
        let err = exact.insert(&[0.5; 8], &mut blob).unwrap_err();
        assert!(err.contains("element 0 is 0.5, not 0 or 1"), "{err}");
        let sign = Encoder::new(VectorElement::Bit, Some(Quantize::Sign)).unwrap();
        sign.insert(&[0.5, -1.0, 0.0, 3.0, -0.1, 0.2, 0.0, 0.0], &mut blob)
            .unwrap();
        assert_eq!(blob, [0b0010_1001]);
    }

    #[test]
    fn float_columns_insert_float32_and_compare_in_their_own_type() {
        let mut blob = Vec::new();
        let half = Encoder::new(VectorElement::Float16, None).unwrap();
        half.insert(&[1.0, 0.5], &mut blob).unwrap();
        assert_eq!(blob.len(), 8);
        half.stored(&[1.0, 0.5], &mut blob).unwrap();
        assert_eq!(blob, [0x00, 0x3c, 0x00, 0x38]);
    }
}
