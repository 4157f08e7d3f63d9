//! Approximate-nearest-neighbour indexes of vec0 vector columns.
//!
//! A vector column declared `indexed by hnsw(...)` gets an HNSW graph (the algorithm lives in
//! `vecsql_core::hnsw`) stored in two shadow tables of the same database, `{t}_hnswNN_nodes`
//! (one row per vector: its links on every layer, as rowids) and `{t}_hnswNN_meta` (graph
//! header and a change counter). [`hnsw::HnswIndex`] keeps an in-memory copy of the graph and
//! of the vectors it walks, and treats it strictly as a cache of those tables: every write goes
//! through to them within the statement that makes it, and every use first compares the
//! stored change counter with the one the copy was built at (see `hnsw.rs`).
//!
//! Why HNSW: on the shared 100k x 384 set it reaches recall@10 >= 0.95 with a few hundred
//! distance computations per query, inserts one vector at a time without a rebuild, and its
//! links are local (a node and its neighbours), so an insert rewrites a few small rows rather
//! than a large blob. The DiskANN/Vamana spelling sqlite-vec's pre-releases used is accepted
//! and mapped onto it (see [`IndexConfig::from_spec`]).

pub mod added;
pub mod clause_error;
mod cold;
pub mod hnsw;
mod pending;
pub mod status;

pub use self::clause_error::{IndexClauseError, KnobError};

use crate::vec0::storage::RowLocation;

/// Which rows a filtered search may return, tested as a walk meets them: a bitmap of the
/// rows that pass ([`hnsw::Accept`]) or the filter itself (`query::filter::RowMatcher`).
pub trait RowTest {
    fn accepts(&self, loc: &RowLocation) -> bool;
}
use super::error::DefinitionError;
use super::layout::{ElementType, Metric};
use super::schema::IndexSpec;

/// How the graph walk measures distances. Candidates found by a quantized walk are always
/// rescored with the column's full-precision vectors before results are returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantizer {
    /// The walk uses the vectors as stored (converted to f32).
    None,
    /// Per-vector scaled int8 codes: a quarter of the memory of f32.
    Int8,
    /// One sign bit per dimension: 1/32 of the memory, for high-dimensional embeddings.
    Binary,
}

impl Quantizer {
    pub fn name(self) -> &'static str {
        match self {
            Quantizer::None => "none",
            Quantizer::Int8 => "int8",
            Quantizer::Binary => "binary",
        }
    }
}

/// A validated `indexed by ...` clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexConfig {
    /// Links per node on the upper layers; layer 0 keeps `2 * m`.
    pub m: usize,
    pub ef_construction: usize,
    /// The default candidate-list size of a query, when it does not give `ef_search = N`.
    pub ef_search: usize,
    pub quantizer: Quantizer,
    /// Rescoring factor: a walk keeps at least `k * oversample` candidates, all rescored in
    /// full precision when the walk is quantized (sqlite-vec 0.1.10's `oversample`).
    pub oversample: Option<usize>,
    /// The kind as written (`hnsw`, or a sqlite-vec pre-release spelling mapped onto it).
    pub declared_kind: String,
    /// Graphs of at least this many nodes are walked in the file by a process that has no
    /// copy yet, instead of loaded before the first answer (see `index/cold.rs`).
    pub cold_walk_min_nodes: usize,
}

pub const DEFAULT_M: usize = 16;
pub const DEFAULT_EF_CONSTRUCTION: usize = 200;
pub const DEFAULT_EF_SEARCH: usize = 64;
/// Below this, loading the whole graph takes no longer than a few walks in the file (about
/// 40 ms for 16k 384-dimensional rows), so a new process loads it at once.
pub const DEFAULT_COLD_WALK_MIN_NODES: usize = 16_384;
/// Bounds that keep a node's row small and a query's work bounded. Below m = 4 the pruned
/// neighbour lists are too short to keep the graph connected (measured: m = 2 leaves ~13% of
/// nodes unreachable on 120 random rows).
pub const MIN_M: usize = 4;
pub const MAX_M: usize = 128;
pub const MAX_EF: usize = 4096;
/// sqlite-vec 0.1.10's bound on `rescore(oversample=...)`.
pub const MAX_OVERSAMPLE: usize = 128;
/// sqlite-vec 0.1.10's bound on `ivf(nlist=...)` and `ivf(nprobe=...)`.
pub const MAX_IVF_LISTS: usize = 65536;

fn integer(
    kind: &str,
    key: &str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<usize, IndexClauseError> {
    match value.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(IndexClauseError::OutOfRange {
            kind: kind.to_string(),
            key: key.to_string(),
            min,
            max,
            got: value.to_string(),
        }),
    }
}

fn unknown_quantizer(kind: &str, key: &str, value: &str) -> IndexClauseError {
    IndexClauseError::UnknownQuantizer {
        kind: kind.to_string(),
        key: key.to_string(),
        got: value.to_string(),
    }
}

fn quantizer(kind: &str, key: &str, value: &str) -> Result<Quantizer, IndexClauseError> {
    match value.to_ascii_lowercase().as_str() {
        "none" | "float" | "f32" => Ok(Quantizer::None),
        "int8" | "i8" => Ok(Quantizer::Int8),
        "binary" | "bit" => Ok(Quantizer::Binary),
        _ => Err(unknown_quantizer(kind, key, value)),
    }
}

impl IndexConfig {
    /// Validates the clause for a column of `element` and `metric`.
    ///
    /// Kinds:
    /// - `hnsw(m=16, ef_construction=200, ef_search=64, quantizer=none|int8|binary)`;
    /// - `diskann(n_neighbors=N, search_list_size=S, neighbor_quantizer=binary|int8)`
    ///   (sqlite-vec pre-release): an HNSW graph with `m = N / 2` (DiskANN's degree is the
    ///   layer-0 degree, `2 * m` here), `ef_search = S`, `ef_construction = max(2 * S, 100)`,
    ///   and the neighbour quantizer for the walk;
    /// - `rescore(quantizer=bit|int8, oversample=O)` (sqlite-vec pre-release: a quantized
    ///   scan rescored in full precision): an HNSW graph walked with that quantizer whose
    ///   candidate list is `max(64, 10 * O)` and at least `k * O` (the candidates are
    ///   rescored, as there);
    /// - `ivf(nlist=N, nprobe=P, quantizer=none|int8|binary, oversample=O)` (sqlite-vec
    ///   0.1.10): validated as there; the quantizer and oversample carry over, nlist and
    ///   nprobe have no HNSW counterpart and leave the defaults.
    ///
    /// `diskann` also takes 0.1.10's `search_list_size_search` (`ef_search`) and
    /// `search_list_size_insert` (`ef_construction`).
    pub fn from_spec(
        spec: &IndexSpec,
        element: ElementType,
        metric: Metric,
    ) -> Result<IndexConfig, IndexClauseError> {
        let kind = spec.kind.as_str();
        let named = || kind.to_string();
        let mut config = IndexConfig {
            m: DEFAULT_M,
            ef_construction: DEFAULT_EF_CONSTRUCTION,
            ef_search: DEFAULT_EF_SEARCH,
            quantizer: Quantizer::None,
            oversample: None,
            declared_kind: kind.to_string(),
            cold_walk_min_nodes: DEFAULT_COLD_WALK_MIN_NODES,
        };
        let unknown = |key: &str, allowed: &'static str| {
            Err(IndexClauseError::UnknownParameter {
                kind: named(),
                key: key.to_string(),
                allowed,
            })
        };
        match kind {
            "hnsw" => {
                for (key, value) in &spec.params {
                    match key.as_str() {
                        "m" => config.m = integer(kind, key, value, MIN_M, MAX_M)?,
                        "ef_construction" => {
                            config.ef_construction = integer(kind, key, value, 1, MAX_EF)?
                        }
                        "ef_search" => config.ef_search = integer(kind, key, value, 1, MAX_EF)?,
                        "quantizer" => config.quantizer = quantizer(kind, key, value)?,
                        _ => return unknown(key, "m, ef_construction, ef_search, quantizer"),
                    }
                }
            }
            "diskann" => {
                for (key, value) in &spec.params {
                    match key.as_str() {
                        "n_neighbors" => {
                            config.m = integer(kind, key, value, 2 * MIN_M, 2 * MAX_M)? / 2
                        }
                        "search_list_size" => {
                            let s = integer(kind, key, value, 1, MAX_EF)?;
                            config.ef_search = s;
                            config.ef_construction = (2 * s).clamp(100, MAX_EF);
                        }
                        "search_list_size_search" => {
                            config.ef_search = integer(kind, key, value, 1, MAX_EF)?
                        }
                        "search_list_size_insert" => {
                            config.ef_construction = integer(kind, key, value, 1, MAX_EF)?
                        }
                        "neighbor_quantizer" => config.quantizer = quantizer(kind, key, value)?,
                        _ => {
                            return unknown(
                                key,
                                "n_neighbors, search_list_size, search_list_size_search, \
                                 search_list_size_insert, neighbor_quantizer",
                            )
                        }
                    }
                }
                let has = |k: &str| spec.params.iter().any(|(key, _)| key == k);
                if has("search_list_size")
                    && (has("search_list_size_search") || has("search_list_size_insert"))
                {
                    return Err(IndexClauseError::SearchListSizeCombined { kind: named() });
                }
            }
            "rescore" => {
                config.quantizer = Quantizer::Binary;
                for (key, value) in &spec.params {
                    match key.as_str() {
                        "quantizer" => config.quantizer = quantizer(kind, key, value)?,
                        "oversample" => {
                            let o = integer(kind, key, value, 1, MAX_OVERSAMPLE)?;
                            config.ef_search = (10 * o).clamp(DEFAULT_EF_SEARCH, MAX_EF);
                            config.oversample = Some(o);
                        }
                        _ => return unknown(key, "quantizer, oversample"),
                    }
                }
            }
            "ivf" => {
                // sqlite-vec 0.1.10's inverted-file index: vecsql has no cells, so nlist and
                // nprobe are checked as there and otherwise leave the graph's defaults.
                let mut nlist = 128;
                let mut nprobe = None;
                for (key, value) in &spec.params {
                    match key.as_str() {
                        "nlist" => nlist = integer(kind, key, value, 0, MAX_IVF_LISTS)?,
                        "nprobe" => nprobe = Some(integer(kind, key, value, 1, MAX_IVF_LISTS)?),
                        "quantizer" => {
                            config.quantizer = match value.to_ascii_lowercase().as_str() {
                                "none" => Quantizer::None,
                                "int8" => Quantizer::Int8,
                                "binary" => Quantizer::Binary,
                                _ => return Err(unknown_quantizer(kind, key, value)),
                            }
                        }
                        "oversample" => {
                            config.oversample = Some(integer(kind, key, value, 1, MAX_EF)?)
                        }
                        _ => return unknown(key, "nlist, nprobe, quantizer, oversample"),
                    }
                }
                if let Some(nprobe) = nprobe {
                    if nlist > 0 && nprobe > nlist {
                        return Err(IndexClauseError::NprobeAboveNlist {
                            kind: named(),
                            nprobe,
                            nlist,
                        });
                    }
                }
                if config.oversample.is_some_and(|o| o > 1) && config.quantizer == Quantizer::None {
                    return Err(IndexClauseError::OversampleWithoutQuantizer { kind: named() });
                }
            }
            _ => return Err(IndexClauseError::UnknownKind { kind: named() }),
        }
        if element == ElementType::Bit && config.quantizer != Quantizer::None {
            return Err(IndexClauseError::QuantizerOnBitColumn { kind: named() });
        }
        if metric == Metric::L1 && config.quantizer != Quantizer::None {
            return Err(IndexClauseError::QuantizerWithL1 {
                kind: named(),
                quantizer: config.quantizer,
            });
        }
        Ok(config)
    }

    /// The knobs that can change after the table is created.
    pub fn tuning(&self) -> Tuning {
        Tuning {
            ef_search: self.ef_search,
            ef_construction: self.ef_construction,
            oversample: self.oversample,
            cold_walk_min_nodes: self.cold_walk_min_nodes,
        }
    }

    /// This configuration with `tuning`'s knobs.
    pub fn with_tuning(&self, tuning: Tuning) -> IndexConfig {
        IndexConfig {
            ef_search: tuning.ef_search,
            ef_construction: tuning.ef_construction,
            oversample: tuning.oversample,
            cold_walk_min_nodes: tuning.cold_walk_min_nodes,
            ..self.clone()
        }
    }

    /// The parameters as `vec_index_status` reports them.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "m": self.m,
            "ef_construction": self.ef_construction,
            "ef_search": self.ef_search,
            "quantizer": self.quantizer.name(),
            "oversample": self.oversample,
            "declared_as": self.declared_kind,
            "cold_walk_min_nodes": self.cold_walk_min_nodes,
        })
    }
}

/// Validates every `indexed by` clause of a definition, reporting a bad one as sqlite-vec
/// 0.1.10 reports any bad vector column (`could not parse vector column '<argument>'`), with
/// the reason after it. `args` are the `vec0(...)` arguments as written.
pub fn check_definition(
    def: &super::schema::TableDefinition,
    args: &[String],
) -> Result<(), DefinitionError> {
    for column in def.vtab_columns() {
        let super::schema::ColumnKind::Vector(v) = &column.kind else {
            continue;
        };
        let Some(spec) = &v.index else { continue };
        let checked = IndexConfig::from_spec(spec, v.element, v.distance_metric).and_then(|c| {
            if matches!(spec.kind.as_str(), "ivf" | "rescore")
                && c.quantizer == Quantizer::Binary
                && !v.dimensions.is_multiple_of(8)
            {
                Err(IndexClauseError::BinaryNeedsWholeBytes {
                    kind: spec.kind.clone(),
                    dimensions: v.dimensions,
                })
            } else {
                Ok(c)
            }
        });
        if let Err(reason) = checked {
            let argument = args
                .iter()
                .map(|a| a.trim())
                .find(|a| {
                    a.len() > column.name.len()
                        && a[..column.name.len()].eq_ignore_ascii_case(&column.name)
                        && a[column.name.len()..].starts_with(|c: char| c.is_ascii_whitespace())
                })
                .unwrap_or(column.name.as_str());
            return Err(DefinitionError::IndexClause {
                argument: argument.to_string(),
                reason,
            });
        }
    }
    Ok(())
}

/// The index knobs sqlite-vec 0.1.10's table commands set (`insert into t(t) values
/// ('search_list_size=N')`, ...). They are stored in the index's `config` row, so every
/// connection uses them, and are read back whenever the index is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    pub ef_search: usize,
    pub ef_construction: usize,
    pub oversample: Option<usize>,
    pub cold_walk_min_nodes: usize,
}

impl Tuning {
    /// The candidate list a walk for `k` rows keeps: the query's (or default) `ef`, at least
    /// `k`, and at least `k * oversample` (bounded by [`MAX_EF`]).
    pub fn walk_ef(&self, k: usize, ef: usize) -> usize {
        let oversample = self.oversample.unwrap_or(1);
        ef.max(k).max(k.saturating_mul(oversample).min(MAX_EF))
    }

    /// The knobs stored in a `config` row, each falling back to `default` when absent or out
    /// of range (a row written before the knob existed).
    pub fn from_json(json: &serde_json::Value, default: Tuning) -> Tuning {
        let knob = |key: &str, max: usize| {
            json.get(key)
                .and_then(|v| v.as_u64())
                .map(|v| v as usize)
                .filter(|v| (1..=max).contains(v))
        };
        Tuning {
            ef_search: knob("ef_search", MAX_EF).unwrap_or(default.ef_search),
            ef_construction: knob("ef_construction", MAX_EF).unwrap_or(default.ef_construction),
            oversample: match json.get("oversample") {
                Some(serde_json::Value::Null) => None,
                Some(_) => knob("oversample", MAX_EF).or(default.oversample),
                None => default.oversample,
            },
            cold_walk_min_nodes: json
                .get("cold_walk_min_nodes")
                .and_then(|v| v.as_u64())
                .map_or(default.cold_walk_min_nodes, |v| {
                    usize::try_from(v).unwrap_or(usize::MAX)
                }),
        }
    }
}

/// A knob set by a table command: sqlite-vec 0.1.10's command names, mapped onto HNSW.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Knob {
    /// `search_list_size=N`: DiskANN's list size for both queries and inserts; here
    /// `ef_search = N` and `ef_construction = max(2N, 100)`, as for `diskann(search_list_size=N)`.
    SearchListSize(usize),
    /// `search_list_size_search=N`: `ef_search = N`.
    SearchListSizeSearch(usize),
    /// `search_list_size_insert=N`: `ef_construction = N`.
    SearchListSizeInsert(usize),
    /// `oversample=N`: walks keep at least `k * N` candidates and rescore them.
    Oversample(usize),
    /// `cold_walk_min_nodes=N`: a process without a copy walks graphs of at least N nodes in
    /// the file for its first queries (0: always; a huge N: never, load first).
    ColdWalkMinNodes(usize),
}

impl Knob {
    /// Parses a command such as `search_list_size=100`; None when it is not a knob command,
    /// an error (starting with sqlite-vec 0.1.10's text) for a bad value.
    pub fn parse(command: &str) -> Option<Result<Knob, KnobError>> {
        let (name, value) = command.split_once('=')?;
        let name = name.trim().to_ascii_lowercase();
        if name == "cold_walk_min_nodes" {
            return Some(match value.trim().parse::<u64>() {
                Ok(n) => Ok(Knob::ColdWalkMinNodes(
                    usize::try_from(n).unwrap_or(usize::MAX),
                )),
                Err(_) => Err(KnobError::NotNonNegative {
                    name,
                    got: value.trim().to_string(),
                }),
            });
        }
        let make: fn(usize) -> Knob = match name.as_str() {
            "search_list_size" => Knob::SearchListSize,
            "search_list_size_search" => Knob::SearchListSizeSearch,
            "search_list_size_insert" => Knob::SearchListSizeInsert,
            "oversample" => Knob::Oversample,
            _ => return None,
        };
        let value = value.trim();
        Some(match value.parse::<i64>() {
            Ok(n) if n >= 1 && n as u64 <= MAX_EF as u64 => Ok(make(n as usize)),
            Ok(n) if n >= 1 => Err(KnobError::AboveMax { name, got: n }),
            _ => Err(KnobError::NotPositive {
                name,
                got: value.to_string(),
            }),
        })
    }

    pub fn apply(self, t: Tuning) -> Tuning {
        match self {
            Knob::SearchListSize(n) => Tuning {
                ef_search: n,
                ef_construction: (2 * n).clamp(100, MAX_EF),
                ..t
            },
            Knob::SearchListSizeSearch(n) => Tuning { ef_search: n, ..t },
            Knob::SearchListSizeInsert(n) => Tuning {
                ef_construction: n,
                ..t
            },
            Knob::Oversample(n) => Tuning {
                oversample: Some(n),
                ..t
            },
            Knob::ColdWalkMinNodes(n) => Tuning {
                cold_walk_min_nodes: n,
                ..t
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: &str, params: &[(&str, &str)]) -> IndexSpec {
        IndexSpec {
            kind: kind.into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn hnsw_defaults_and_parameters() {
        let c = IndexConfig::from_spec(&spec("hnsw", &[]), ElementType::Float32, Metric::Cosine)
            .unwrap();
        assert_eq!((c.m, c.ef_construction, c.ef_search), (16, 200, 64));
        assert_eq!(c.quantizer, Quantizer::None);
        let c = IndexConfig::from_spec(
            &spec(
                "hnsw",
                &[("m", "8"), ("ef_search", "100"), ("quantizer", "int8")],
            ),
            ElementType::Float32,
            Metric::L2,
        )
        .unwrap();
        assert_eq!((c.m, c.ef_search, c.quantizer), (8, 100, Quantizer::Int8));
    }

    #[test]
    fn sqlite_vec_prerelease_spellings_map_onto_hnsw() {
        let c = IndexConfig::from_spec(
            &spec(
                "diskann",
                &[
                    ("neighbor_quantizer", "binary"),
                    ("n_neighbors", "64"),
                    ("search_list_size", "128"),
                ],
            ),
            ElementType::Float32,
            Metric::Cosine,
        )
        .unwrap();
        assert_eq!(
            (c.m, c.ef_search, c.ef_construction, c.quantizer),
            (32, 128, 256, Quantizer::Binary)
        );
        let c = IndexConfig::from_spec(
            &spec("rescore", &[("quantizer", "int8"), ("oversample", "16")]),
            ElementType::Float32,
            Metric::L2,
        )
        .unwrap();
        assert_eq!(
            (c.ef_search, c.quantizer, c.oversample),
            (160, Quantizer::Int8, Some(16))
        );
        let c = IndexConfig::from_spec(
            &spec(
                "ivf",
                &[
                    ("nlist", "64"),
                    ("nprobe", "8"),
                    ("quantizer", "int8"),
                    ("oversample", "4"),
                ],
            ),
            ElementType::Float32,
            Metric::L2,
        )
        .unwrap();
        assert_eq!(
            (c.m, c.ef_search, c.quantizer, c.oversample),
            (16, 64, Quantizer::Int8, Some(4))
        );
        let c = IndexConfig::from_spec(
            &spec(
                "diskann",
                &[
                    ("neighbor_quantizer", "int8"),
                    ("search_list_size_search", "40"),
                    ("search_list_size_insert", "300"),
                ],
            ),
            ElementType::Float32,
            Metric::L2,
        )
        .unwrap();
        assert_eq!((c.ef_search, c.ef_construction), (40, 300));
    }

    #[test]
    fn knob_commands() {
        let t = Tuning {
            ef_search: 64,
            ef_construction: 200,
            oversample: None,
            cold_walk_min_nodes: DEFAULT_COLD_WALK_MIN_NODES,
        };
        let k = |c: &str| Knob::parse(c).unwrap().unwrap();
        assert_eq!(k("search_list_size=30").apply(t).ef_search, 30);
        assert_eq!(k("search_list_size=30").apply(t).ef_construction, 100);
        assert_eq!(
            k("search_list_size_insert=500").apply(t).ef_construction,
            500
        );
        assert_eq!(k("search_list_size_search=7").apply(t).ef_search, 7);
        assert_eq!(k("oversample=3").apply(t).oversample, Some(3));
        assert_eq!(k("cold_walk_min_nodes=0").apply(t).cold_walk_min_nodes, 0);
        assert!(Knob::parse("cold_walk_min_nodes=-1")
            .unwrap()
            .unwrap_err()
            .to_string()
            .starts_with("cold_walk_min_nodes must be an integer >= 0"));
        assert!(Knob::parse("optimize").is_none());
        assert!(Knob::parse("nprobe=3").is_none());
        assert!(Knob::parse("oversample=0")
            .unwrap()
            .unwrap_err()
            .to_string()
            .starts_with("oversample must be >= 1"));
        assert!(Knob::parse("search_list_size=x")
            .unwrap()
            .unwrap_err()
            .to_string()
            .starts_with("search_list_size must be >= 1"));
        let json = serde_json::json!({"ef_search": 9, "oversample": null});
        assert_eq!(Tuning::from_json(&json, t).ef_search, 9);
        assert_eq!(Tuning::from_json(&json, t).ef_construction, 200);
    }

    #[test]
    fn bad_clauses_name_what_is_wrong() {
        let err = |s: IndexSpec, e: ElementType, m: Metric| {
            IndexConfig::from_spec(&s, e, m).unwrap_err().to_string()
        };
        let f = ElementType::Float32;
        assert!(err(spec("annoy", &[]), f, Metric::L2).contains("unknown index type 'annoy'"));
        assert!(err(
            spec("ivf", &[("nlist", "4"), ("nprobe", "8")]),
            f,
            Metric::L2
        )
        .contains("nprobe (8) cannot exceed nlist (4)"));
        assert!(err(spec("ivf", &[("oversample", "4")]), f, Metric::L2)
            .contains("oversample > 1 needs quantizer"));
        assert!(err(
            spec(
                "diskann",
                &[("search_list_size", "8"), ("search_list_size_search", "8")]
            ),
            f,
            Metric::L2
        )
        .contains("cannot be combined"));
        assert!(
            err(spec("hnsw", &[("m", "1")]), f, Metric::L2).contains("m must be an integer from 4")
        );
        assert!(err(spec("hnsw", &[("m", "x")]), f, Metric::L2).contains("got 'x'"));
        assert!(
            err(spec("hnsw", &[("efs", "1")]), f, Metric::L2).contains("unknown parameter 'efs'")
        );
        assert!(err(spec("hnsw", &[("quantizer", "pq")]), f, Metric::L2)
            .contains("none, int8 or binary"));
        assert!(err(
            spec("hnsw", &[("quantizer", "int8")]),
            ElementType::Bit,
            Metric::Hamming
        )
        .contains("bit column"));
        assert!(err(spec("hnsw", &[("quantizer", "binary")]), f, Metric::L1).contains("l1"));
    }
}
