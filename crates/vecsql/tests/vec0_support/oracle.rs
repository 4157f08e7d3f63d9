//! The oracle's vocabulary shared by the random-workload tests (`vec0_oracle*.rs`): distance
//! metrics computed in f64, and comparisons as SQL text and as Rust.
//!
//! Reached as `vec0_support::oracle`.

use proptest::prelude::*;

/// A vec0 distance metric, computed in f64 as the oracle's truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    L2,
    L1,
    Cosine,
    Dot,
}

impl Metric {
    pub fn sql(self) -> &'static str {
        match self {
            Metric::L2 => "l2",
            Metric::L1 => "l1",
            Metric::Cosine => "cosine",
            Metric::Dot => "dot",
        }
    }

    pub fn distance(self, a: &[f64], b: &[f64]) -> f64 {
        let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        match self {
            Metric::L2 => a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f64>()
                .sqrt(),
            Metric::L1 => a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum(),
            // `+ 0.0` turns -0.0 into 0.0: they are one distance and tie by rowid.
            Metric::Dot => -dot + 0.0,
            Metric::Cosine => {
                let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
                let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
                1.0 - dot / (na * nb)
            }
        }
    }

    /// Whether f32 arithmetic on small integer vectors gives exactly the f64 result's order
    /// (sums of small integers are exact; cosine divides and is not).
    pub fn exact(self) -> bool {
        self != Metric::Cosine
    }
}

/// A comparison operator of a filter.
#[derive(Debug, Clone, Copy)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    pub fn sql(self) -> &'static str {
        match self {
            Cmp::Eq => "=",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
    pub fn test<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

/// `s` as an SQL string literal.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Any comparison.
pub fn cmp() -> impl Strategy<Value = Cmp> {
    prop_oneof![
        Just(Cmp::Eq),
        Just(Cmp::Ne),
        Just(Cmp::Lt),
        Just(Cmp::Le),
        Just(Cmp::Gt),
        Just(Cmp::Ge)
    ]
}

/// A small embedding, exact in f32.
pub fn emb() -> impl Strategy<Value = [i8; 3]> {
    // Never the zero vector: its cosine distance is undefined.
    [-3i8..=3, -3i8..=3, -3i8..=3].prop_map(|mut v| {
        if v == [0, 0, 0] {
            v[0] = 1;
        }
        v
    })
}
