//! The `'key=value'` settings of `libsql_vector_idx(col, ...)` and how each maps onto the HNSW
//! index of a vec0 table (vecsql's one ANN index).
//!
//! | libSQL setting | vecsql |
//! |---|---|
//! | `metric=cosine` (default) / `l2` | `distance_metric=cosine` / `l2` |
//! | `max_neighbors=N` (DiskANN's graph degree) | `m = clamp(N / 2, 4, 128)` (HNSW layer 0 keeps `2m`) |
//! | `compress_neighbors=float1bit` / `float8` | `quantizer=binary` / `int8` (walk on codes, rescore exactly) |
//! | `compress_neighbors=float16` / `floatb16` / `float32` | `quantizer=none` |
//! | `search_l=N` | `ef_search = min(N, 4096)` |
//! | `insert_l=N` | `ef_construction = min(N, 4096)` |
//! | `type=diskann` (libSQL's only type) | accepted |
//! | `alpha=X` (DiskANN's pruning slack) | accepted and checked (a positive number); HNSW's neighbour heuristic has no such knob |

use vecsql_core::distance::Metric;

use crate::error::{SqlError, SqlResult};

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `Cosine` or `L2`, libSQL's two metrics.
    pub metric: Metric,
    pub max_neighbors: Option<u64>,
    pub compress_neighbors: Option<String>,
    pub alpha: Option<f64>,
    pub search_l: Option<u64>,
    pub insert_l: Option<u64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            metric: Metric::Cosine,
            max_neighbors: None,
            compress_neighbors: None,
            alpha: None,
            search_l: None,
            insert_l: None,
        }
    }
}

fn invalid(setting: &str, why: &str) -> SqlError {
    SqlError::new(format!(
        "vector index: invalid vector index parameter '{setting}': {why}"
    ))
}

fn positive_integer(setting: &str, value: &str) -> SqlResult<u64> {
    match value.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(invalid(
            setting,
            "expected a positive integer (invalid representation of integer vector index parameter)",
        )),
    }
}

impl Settings {
    /// Parses libSQL's settings strings (`'metric=l2'`, ...). Keys and values are matched
    /// case-insensitively, as libSQL does; no spaces around `=`.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> SqlResult<Settings> {
        let mut s = Settings::default();
        for item in items {
            let item = item.as_ref();
            let Some((key, value)) = item.split_once('=') else {
                return Err(invalid(
                    item,
                    "unexpected parameter format (expected key=value)",
                ));
            };
            let lower = value.to_ascii_lowercase();
            match key.to_ascii_lowercase().as_str() {
                // libSQL's only index type; vecsql serves it with HNSW.
                "type" if lower == "diskann" => {}
                "metric" => {
                    s.metric = match lower.as_str() {
                        "cosine" | "cos" => Metric::Cosine,
                        "l2" => Metric::L2,
                        _ => {
                            return Err(invalid(item, "invalid parameter (metric is cosine or l2)"))
                        }
                    }
                }
                "max_neighbors" => s.max_neighbors = Some(positive_integer(item, value)?),
                "compress_neighbors" => {
                    match lower.as_str() {
                        "float1bit" | "float8" | "float16" | "floatb16" | "float32" => {
                            s.compress_neighbors = Some(lower)
                        }
                        _ => return Err(invalid(
                            item,
                            "invalid parameter (compress_neighbors is float1bit, float8, float16, \
                             floatb16 or float32)",
                        )),
                    }
                }
                "alpha" => match value.parse::<f64>() {
                    Ok(a) if a.is_finite() && a > 0.0 => s.alpha = Some(a),
                    _ => return Err(invalid(item, "expected a positive number")),
                },
                "search_l" => s.search_l = Some(positive_integer(item, value)?),
                "insert_l" => s.insert_l = Some(positive_integer(item, value)?),
                _ => {
                    return Err(invalid(
                        item,
                        "invalid parameter (known: type=diskann, metric, max_neighbors, \
                         compress_neighbors, alpha, search_l, insert_l)",
                    ))
                }
            }
        }
        Ok(s)
    }

    /// The `hnsw(...)` parameters of the hidden vec0 table.
    pub fn hnsw_params(&self) -> String {
        let mut p = Vec::new();
        if let Some(n) = self.max_neighbors {
            p.push(format!("m={}", (n / 2).clamp(4, 128)));
        }
        if let Some(n) = self.insert_l {
            p.push(format!("ef_construction={}", n.min(4096)));
        }
        if let Some(n) = self.search_l {
            p.push(format!("ef_search={}", n.min(4096)));
        }
        match self.compress_neighbors.as_deref() {
            Some("float1bit") => p.push("quantizer=binary".into()),
            Some("float8") => p.push("quantizer=int8".into()),
            _ => {}
        }
        p.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_mapping() {
        let s = Settings::parse::<&str>(&[]).unwrap();
        assert_eq!(s.metric, Metric::Cosine);
        assert_eq!(s.hnsw_params(), "");
        let s = Settings::parse(&[
            "metric=L2",
            "max_neighbors=64",
            "compress_neighbors=float8",
            "alpha=1.2",
            "search_l=200",
            "insert_l=100",
        ])
        .unwrap();
        assert_eq!(s.metric, Metric::L2);
        assert_eq!(
            s.hnsw_params(),
            "m=32, ef_construction=100, ef_search=200, quantizer=int8"
        );
    }

    #[test]
    fn errors_name_the_setting() {
        for (bad, why) in [
            ("metric=foo", "invalid parameter"),
            ("foo=1", "invalid parameter"),
            ("metric", "unexpected parameter format"),
            ("max_neighbors=0", "positive integer"),
            ("search_l=abc", "positive integer"),
            ("alpha=-1", "positive number"),
            ("compress_neighbors=int8", "invalid parameter"),
            ("type=hnsw", "invalid parameter"),
        ] {
            let e = Settings::parse(&[bad]).unwrap_err().message;
            assert!(
                e.starts_with(&format!(
                    "vector index: invalid vector index parameter '{bad}': "
                )),
                "{e}"
            );
            assert!(e.contains(why), "{e}");
        }
    }
}
