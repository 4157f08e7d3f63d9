//! The order of k-nearest-neighbour results and a bounded heap keeping the best `k` of a stream.
//!
//! Results ascend by distance, NaN ranked as +infinity (SQL outputs it as NULL; it must neither
//! come first nor break the heap's order; at equal rowids it comes after infinity), ties broken
//! by rowid so equal distances come out in
//! a stable order whatever the plan. An exact scan, the rescoring of an index's candidates and
//! the merge of parallel scans all rank with [`Ranked`].

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// `-0.0` as `0.0`: the same distance in SQL (e.g. the negated dot product of orthogonal
/// vectors). Left signed, `distance >= 0` would drop it and the order would put it before
/// every `0.0`.
#[inline]
pub fn unsigned_zero(distance: f64) -> f64 {
    if distance == 0.0 {
        0.0
    } else {
        distance
    }
}

/// One result: its distance and rowid (the rank), and `item`, whatever the caller needs to
/// find the row again (ignored by the order).
#[derive(Debug, Clone, Copy)]
pub struct Ranked<T> {
    pub distance: f64,
    pub rowid: i64,
    pub item: T,
}

impl<T> Ranked<T> {
    fn key(&self) -> (f64, i64) {
        let d = if self.distance.is_nan() {
            f64::INFINITY
        } else {
            // -0.0 ranks with 0.0 (a negated inner product of orthogonal vectors is -0.0).
            self.distance + 0.0
        };
        (d, self.rowid)
    }
}

impl<T> PartialEq for Ranked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<T> Eq for Ranked<T> {}
impl<T> PartialOrd for Ranked<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Ranked<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.key(), other.key());
        a.0.total_cmp(&b.0)
            .then(a.1.cmp(&b.1))
            .then(self.distance.is_nan().cmp(&other.distance.is_nan()))
    }
}

/// The best `k` results pushed so far: a max-heap whose top is the worst kept.
#[derive(Debug, Clone)]
pub struct TopK<T> {
    heap: BinaryHeap<Ranked<T>>,
    k: usize,
}

impl<T> TopK<T> {
    pub fn new(k: usize) -> TopK<T> {
        TopK {
            heap: BinaryHeap::with_capacity(k.saturating_add(1).min(1 << 16)),
            k,
        }
    }

    /// Keeps `r` if fewer than `k` are kept or it ranks before the worst kept.
    pub fn push(&mut self, r: Ranked<T>) {
        if self.heap.len() < self.k {
            self.heap.push(r);
        } else if let Some(worst) = self.heap.peek() {
            if r < *worst {
                self.heap.pop();
                self.heap.push(r);
            }
        }
    }

    /// Adds every result `other` kept (the merge of two partial scans).
    pub fn merge(&mut self, other: TopK<T>) {
        for r in other.heap.into_vec() {
            self.push(r);
        }
    }

    /// The kept results, best first.
    pub fn into_sorted_vec(self) -> Vec<Ranked<T>> {
        self.heap.into_sorted_vec()
    }
}

/// Rescoring, the last step of every index search: `exact` scores each walk candidate with
/// the distance results report (`Ok(None)` drops it: a row the caller no longer finds; an
/// error stops), and the best `k` come back in [`Ranked`]'s order. [`Hnsw::search_rescored`]
/// (a walk of an in-memory graph) and vec0's walk of a graph in the file both end here.
///
/// [`Hnsw::search_rescored`]: crate::hnsw::Hnsw::search_rescored
pub fn rescore<C, T, E>(
    candidates: impl IntoIterator<Item = C>,
    mut exact: impl FnMut(C) -> Result<Option<Ranked<T>>, E>,
    k: usize,
) -> Result<Vec<Ranked<T>>, E> {
    let mut out = Vec::new();
    for c in candidates {
        if let Some(mut r) = exact(c)? {
            r.distance = unsigned_zero(r.distance);
            out.push(r);
        }
    }
    out.sort_unstable();
    out.truncate(k);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(distance: f64, rowid: i64) -> Ranked<()> {
        Ranked {
            distance,
            rowid,
            item: (),
        }
    }

    #[test]
    fn rescore_drops_missing_rows_stops_at_errors_and_keeps_the_best_k() {
        let exact = |(d, rowid): (f64, i64)| match rowid {
            7 => Ok(None),
            99 => Err("unreadable"),
            _ => Ok(Some(r(d, rowid))),
        };
        let got = rescore(
            [(2.0, 1), (-0.0, 3), (0.0, 2), (0.5, 7), (1.0, 4)],
            exact,
            3,
        )
        .unwrap();
        let got: Vec<(f64, i64)> = got.iter().map(|x| (x.distance, x.rowid)).collect();
        assert_eq!(got, [(0.0, 2), (0.0, 3), (1.0, 4)]);
        assert!(got[1].0.is_sign_positive());
        assert_eq!(rescore([(1.0, 1), (0.0, 99)], exact, 2), Err("unreadable"));
    }

    #[test]
    fn keeps_the_best_k_by_distance_then_rowid_with_nan_last() {
        let mut top = TopK::new(4);
        for x in [
            r(f64::NAN, 1),
            r(2.0, 9),
            r(f64::INFINITY, 2),
            r(1.0, 7),
            r(2.0, 3),
            r(unsigned_zero(-0.0), 8),
        ] {
            top.push(x);
        }
        let mut other = TopK::new(4);
        other.push(r(0.0, 4));
        top.merge(other);
        let got: Vec<(f64, i64)> = top
            .into_sorted_vec()
            .iter()
            .map(|x| (x.distance, x.rowid))
            .collect();
        assert_eq!(got, [(0.0, 4), (0.0, 8), (1.0, 7), (2.0, 3)]);
        assert!(unsigned_zero(-0.0).is_sign_positive());
        // NaN ranks as infinity: after every finite number, by rowid among infinities.
        assert!(r(f64::NAN, 1) > r(f64::MAX, 2));
        assert!(r(f64::NAN, 1) < r(f64::INFINITY, 2));
        assert!(r(f64::NAN, 1) > r(f64::INFINITY, 1));
    }
}
