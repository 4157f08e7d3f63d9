//! sqlite-vss's column definitions (`name(D) factory="..." metric_type=...`) and how a Faiss
//! factory string maps onto vecsql's one vector index: a `vec0` column, exact (`Flat`) or with
//! `indexed by hnsw(...)` (HNSW, IVF, NSG; PQ/SQ codes become HNSW's int8 quantizer).

use crate::error::{SqlError, SqlResult};

/// sqlite-vss's default factory.
pub const DEFAULT_FACTORY: &str = "Flat,IDMap2";

/// A vss0 column's metric, as sqlite-vss's `metric_type=` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    L2,
    InnerProduct,
    L1,
    /// The metrics below have no vec0 kernel: their columns are searched by an exact scan
    /// (whatever the factory asks for), with Faiss's formulas.
    Linf,
    Canberra,
    BrayCurtis,
    JensenShannon,
}

impl MetricType {
    /// The vec0 `distance_metric` that orders rows the same way.
    pub fn vec0_name(self) -> &'static str {
        match self {
            MetricType::InnerProduct => "dot",
            MetricType::L1 => "l1",
            // Storage only for the scan-only metrics (see [`MetricType::exact_only`]).
            _ => "l2",
        }
    }

    /// Whether only an exact scan can search this metric (vec0 has no kernel for it).
    pub fn exact_only(self) -> bool {
        matches!(
            self,
            MetricType::Linf
                | MetricType::Canberra
                | MetricType::BrayCurtis
                | MetricType::JensenShannon
        )
    }

    /// sqlite-vss's distance between a query and a stored vector.
    pub fn distance(self, query: &[f32], v: &[f32]) -> f32 {
        use super::functions as f;
        match self {
            MetricType::L2 => f::l2_squared(query, v),
            MetricType::InnerProduct => f::inner_product(query, v),
            MetricType::L1 => f::l1(query, v),
            MetricType::Linf => f::linf(query, v),
            MetricType::Canberra => f::canberra(query, v),
            MetricType::BrayCurtis => f::bray_curtis(query, v),
            MetricType::JensenShannon => f::jensen_shannon(query, v),
        }
    }

    /// sqlite-vss's distance from vec0's: squared L2, the inner product itself (vec0's `dot`
    /// is its negation), L1 as is.
    pub fn from_vec0_distance(self, d: f64) -> f64 {
        match self {
            MetricType::L2 => {
                let d = d as f32;
                (d * d) as f64
            }
            MetricType::InnerProduct => 0.0 - d,
            _ => d,
        }
    }

    /// Whether larger distances are better (inner product is a similarity).
    pub fn descending(self) -> bool {
        self == MetricType::InnerProduct
    }

    /// Faiss's metric code.
    pub fn faiss_code(self) -> i32 {
        match self {
            MetricType::InnerProduct => 0,
            MetricType::L2 => 1,
            MetricType::L1 => 2,
            MetricType::Linf => 3,
            MetricType::Canberra => 20,
            MetricType::BrayCurtis => 21,
            MetricType::JensenShannon => 22,
        }
    }
}

/// How the column's vectors are searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexPlan {
    /// `Flat`: every query is an exact scan.
    Exact,
    /// An approximate factory: vec0's HNSW index with these `hnsw(...)` options.
    Hnsw { m: Option<u32>, int8: bool },
}

/// One vector column of a vss0 table.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    pub name: String,
    pub dimensions: usize,
    pub factory: String,
    pub metric: MetricType,
    pub plan: IndexPlan,
}

impl ColumnSpec {
    /// The vec0 column definition backing this column (the vector column is named `v`).
    pub fn vec0_definition(&self) -> String {
        let mut def = format!(
            "v float[{}] distance_metric={}",
            self.dimensions,
            self.metric.vec0_name()
        );
        if let IndexPlan::Hnsw { m, int8 } = &self.plan {
            let mut opts = Vec::new();
            if let Some(m) = m {
                opts.push(format!("m={m}"));
            }
            if *int8 {
                opts.push("quantizer=int8".to_string());
            }
            def.push_str(&format!(" indexed by hnsw({})", opts.join(", ")));
        }
        def
    }
}

/// Parses sqlite-vss's `metric_type=` values (`Lp` is unknown to sqlite-vss too: Faiss needs a
/// `metric_arg` it has no way to set).
fn parse_metric(text: &str) -> SqlResult<MetricType> {
    match text {
        "L2" => Ok(MetricType::L2),
        "INNER_PRODUCT" => Ok(MetricType::InnerProduct),
        "L1" => Ok(MetricType::L1),
        "Linf" => Ok(MetricType::Linf),
        "Canberra" => Ok(MetricType::Canberra),
        "BrayCurtis" => Ok(MetricType::BrayCurtis),
        "JensenShannon" => Ok(MetricType::JensenShannon),
        other => Err(SqlError::new(format!("unknown metric type: {other}"))),
    }
}

/// Parses one column argument the way sqlite-vss does: `name(D)`, then optional
/// `factory="..."` and `metric_type=NAME` in any order.
pub fn parse_column(arg: &str) -> SqlResult<ColumnSpec> {
    let parse_error = || SqlError::new("Error parsing constructor");
    let lparen = arg.find('(').ok_or_else(parse_error)?;
    let rparen = arg.find(')').ok_or_else(parse_error)?;
    if lparen >= rparen {
        return Err(parse_error());
    }
    let name = arg[..lparen].trim().to_string();
    let dims_text = arg[lparen + 1..rparen].trim();
    let dimensions: usize = dims_text.parse().map_err(|_| {
        SqlError::new(format!(
            "vss0: column {name} needs a positive dimension count, got ({dims_text})"
        ))
    })?;
    if dimensions == 0 {
        return Err(SqlError::new(format!(
            "vss0: column {name} needs a positive dimension count, got (0)"
        )));
    }
    let rest = &arg[rparen + 1..];
    let factory = match rest.find("factory").and_then(|at| {
        let eq = rest[at..].find('=')? + at;
        Some(eq)
    }) {
        Some(eq) => {
            let after = &rest[eq..];
            let lquote = after.find('"').ok_or_else(parse_error)?;
            let rquote = after.rfind('"').ok_or_else(parse_error)?;
            if lquote >= rquote {
                return Err(parse_error());
            }
            after[lquote + 1..rquote].to_string()
        }
        None => DEFAULT_FACTORY.to_string(),
    };
    let metric = match rest.find("metric_type").and_then(|at| {
        let eq = rest[at..].find('=')? + at;
        Some(eq)
    }) {
        Some(eq) => {
            let value = rest[eq + 1..].trim_start();
            if value.is_empty() {
                return Err(SqlError::new("invalid metric_type value"));
            }
            let end = value.find(',').unwrap_or(value.len());
            parse_metric(value[..end].trim_end())?
        }
        None => MetricType::L2,
    };
    let plan = plan_for(&factory, &name)?;
    let plan = if metric.exact_only() {
        IndexPlan::Exact
    } else {
        plan
    };
    Ok(ColumnSpec {
        name,
        dimensions,
        factory,
        metric,
        plan,
    })
}

/// A number right after `prefix` in `token` (e.g. `HNSW32` -> 32), if any.
fn number_after(token: &str, prefix: &str) -> Option<u32> {
    let digits: String = token[prefix.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Maps a Faiss factory string onto vec0. Components, comma-separated:
/// - `Flat`, `IDMap`, `IDMap2`, `RFlat`, `Refine(...)`: storage and ids (vec0 keeps both);
/// - `HNSW<M>[...]`: HNSW with `m = M`; `IVF<nlist>[...]`, `NSG<R>`: HNSW with vecsql's
///   defaults (nlist/nprobe have no counterpart: the graph needs no training);
/// - `PQ<m>...`, `SQ<bits>`, `SQfp16`, `SQ8`, `RQ...`, `LSQ...`: compressed codes, i.e. HNSW
///   with `quantizer=int8` (walks codes, rescores in full precision);
/// - `PCA<d>`, `OPQ<m>[_<d>]`, `RR<d>`, `ITQ...`, `Pad<d>`: pre-transforms, dropped (vecsql
///   keeps full vectors).
///
/// Anything else is refused with a message naming the component.
const SUPPORTED: &str = "supported: Flat, IDMap, IDMap2, HNSW<M>, IVF<nlist>, NSG<R>, PQ<m>, \
                         SQ<bits>, PCA/OPQ pre-transforms";

pub fn plan_for(factory: &str, column: &str) -> SqlResult<IndexPlan> {
    let mut ann = false;
    let mut m = None;
    let mut int8 = false;
    for token in factory.split(',').map(str::trim) {
        let base = token.split('_').next().unwrap_or(token);
        if matches!(token, "Flat" | "IDMap" | "IDMap2" | "RFlat") || token.starts_with("Refine") {
            continue;
        }
        if let Some(rest) = base.strip_prefix("HNSW") {
            ann = true;
            if !rest.is_empty() {
                m = number_after(base, "HNSW").or(m);
            }
            int8 |= token.contains("_PQ") || token.contains("_SQ");
        } else if base.starts_with("IVF") || base.starts_with("IMI") || base.starts_with("NSG") {
            ann = true;
            int8 |= token.contains("_PQ") || token.contains("_SQ");
        } else if base.starts_with("PQ")
            || base.starts_with("SQ")
            || base.starts_with("RQ")
            || base.starts_with("LSQ")
            || base.starts_with("PRQ")
            || base.starts_with("PLSQ")
        {
            ann = true;
            int8 = true;
        } else if base.starts_with("PCA")
            || base.starts_with("OPQ")
            || base.starts_with("RR")
            || base.starts_with("ITQ")
            || base.starts_with("Pad")
        {
            continue;
        } else if ["LSH", "Residual", "BinaryHash", "ZnLattice", "L2norm"]
            .iter()
            .any(|p| base.starts_with(p))
        {
            return Err(SqlError::new(format!(
                "Error building index factory for {column}: vecsql does not support the \
                 factory component \"{token}\" of \"{factory}\" ({SUPPORTED})"
            )));
        } else {
            // Not a Faiss component at all: Faiss's own words, which users' code may match.
            return Err(SqlError::new(format!(
                "Error building index factory for {column}: could not parse index string \
                 {factory} (\"{token}\" is not a factory component; {SUPPORTED})"
            )));
        }
    }
    Ok(if ann {
        IndexPlan::Hnsw { m, int8 }
    } else {
        IndexPlan::Exact
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_parse_like_sqlite_vss() {
        let c = parse_column("a(4)").unwrap();
        assert_eq!((c.name.as_str(), c.dimensions), ("a", 4));
        assert_eq!(c.factory, "Flat,IDMap2");
        assert_eq!(c.metric, MetricType::L2);
        assert_eq!(c.plan, IndexPlan::Exact);
        let c = parse_column(r#"b(3) factory="HNSW16,IDMap2" metric_type=INNER_PRODUCT"#).unwrap();
        assert_eq!(c.metric, MetricType::InnerProduct);
        assert_eq!(
            c.plan,
            IndexPlan::Hnsw {
                m: Some(16),
                int8: false
            }
        );
        assert_eq!(
            c.vec0_definition(),
            "v float[3] distance_metric=dot indexed by hnsw(m=16)"
        );
        let c = parse_column(r#"c(8) factory="IVF4096,PQ16""#).unwrap();
        assert_eq!(
            c.plan,
            IndexPlan::Hnsw {
                m: None,
                int8: true
            }
        );
        assert_eq!(
            parse_column("x").unwrap_err().message,
            "Error parsing constructor"
        );
        assert_eq!(
            parse_column("x(2) metric_type=FOO").unwrap_err().message,
            "unknown metric type: FOO"
        );
        // Metrics without a vec0 kernel are exact scans, whatever the factory.
        let c = parse_column(r#"x(2) factory="HNSW32" metric_type=Linf"#).unwrap();
        assert_eq!((c.metric, c.plan), (MetricType::Linf, IndexPlan::Exact));
        assert_eq!(
            parse_column("x(2) metric_type=Lp").unwrap_err().message,
            "unknown metric type: Lp"
        );
        assert!(parse_column(r#"x(2) factory="LSH""#)
            .unwrap_err()
            .message
            .contains("\"LSH\""));
    }
}
