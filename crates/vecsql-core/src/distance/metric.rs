//! [`Metric`]: the one name for "which distance" across vecsql. vec0's `distance_metric=`,
//! the HNSW spaces, the SQL distance functions, libSQL's `metric=`, sqlite-vss's
//! `metric_type=` and the CLI's `--metric` all map onto it; each dialect keeps only its own
//! spelling, at its edge.

use std::fmt;

/// A distance between two vectors. Every metric is "smaller is closer".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Euclidean distance. Graph walks rank by its square, which orders the same way and
    /// saves a square root per distance.
    L2,
    /// Cosine distance `1 - cos`; NaN when a norm is zero (as in sqlite-vec).
    Cosine,
    /// Manhattan distance. Float32 vectors sum in `f64`, as sqlite-vec does
    /// ([`l1_f32_f64`](super::l1_f32_f64)).
    L1,
    /// Negated inner product (maximum inner product search as a minimum).
    Dot,
    /// The number of differing bits, for bit vectors only.
    Hamming,
}

impl Metric {
    /// Every metric, in the order vec0's messages list them.
    pub const ALL: [Metric; 5] = [
        Metric::L2,
        Metric::Cosine,
        Metric::L1,
        Metric::Dot,
        Metric::Hamming,
    ];

    /// The lower-case name, as vec0's `distance_metric=` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Metric::L2 => "l2",
            Metric::Cosine => "cosine",
            Metric::L1 => "l1",
            Metric::Dot => "dot",
            Metric::Hamming => "hamming",
        }
    }

    /// The metric [`name`](Self::name) spells, ignoring ASCII case.
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Metric;

    #[test]
    fn names_round_trip_in_any_case() {
        for m in Metric::ALL {
            assert_eq!(Metric::from_name(m.name()), Some(m));
            assert_eq!(Metric::from_name(&m.name().to_uppercase()), Some(m));
        }
        assert_eq!(Metric::from_name("euclidean"), None);
    }
}
