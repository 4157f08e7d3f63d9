//! Query plans: what `best_index` decided and how xFilter's arguments are to be read.
//! The plan travels to xFilter as `idxStr`, so it has a text form that round-trips.

use std::fmt;

use crate::ffi::index_info::{ConstraintOp, IndexInfo};
use crate::vec0::error::{Vec0Error, Vec0Result};
use crate::vec0::layout::{ColumnRole, Layout};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl FilterOp {
    fn from_constraint(op: ConstraintOp) -> Option<FilterOp> {
        Some(match op {
            ConstraintOp::Eq => FilterOp::Eq,
            ConstraintOp::Ne => FilterOp::Ne,
            ConstraintOp::Lt => FilterOp::Lt,
            ConstraintOp::Le => FilterOp::Le,
            ConstraintOp::Gt => FilterOp::Gt,
            ConstraintOp::Ge => FilterOp::Ge,
            _ => return None,
        })
    }

    pub fn sql(self) -> &'static str {
        match self {
            FilterOp::Eq => "=",
            FilterOp::Ne => "!=",
            FilterOp::Lt => "<",
            FilterOp::Le => "<=",
            FilterOp::Gt => ">",
            FilterOp::Ge => ">=",
        }
    }

    /// Whether `ordering` (left value compared with the constraint value) satisfies the op.
    pub fn accepts(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            FilterOp::Eq => ordering == Equal,
            FilterOp::Ne => ordering != Equal,
            FilterOp::Lt => ordering == Less,
            FilterOp::Le => ordering != Greater,
            FilterOp::Gt => ordering == Greater,
            FilterOp::Ge => ordering != Less,
        }
    }

    fn code(self) -> &'static str {
        match self {
            FilterOp::Eq => "eq",
            FilterOp::Ne => "ne",
            FilterOp::Lt => "lt",
            FilterOp::Le => "le",
            FilterOp::Gt => "gt",
            FilterOp::Ge => "ge",
        }
    }

    fn from_code(code: &str) -> Option<FilterOp> {
        Some(match code {
            "eq" => FilterOp::Eq,
            "ne" => FilterOp::Ne,
            "lt" => FilterOp::Lt,
            "le" => FilterOp::Le,
            "gt" => FilterOp::Gt,
            "ge" => FilterOp::Ge,
            _ => return None,
        })
    }
}

/// What one xFilter argument is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanArg {
    /// The query vector of a KNN search.
    Query,
    /// `k = ?`.
    K,
    /// `LIMIT ?` standing in for k.
    Limit,
    /// `OFFSET ?`, added to a LIMIT-derived k.
    Offset,
    Metadata(usize, FilterOp),
    /// `metadata IN (...)`, read whole with `FilterArg::in_values`.
    MetadataIn(usize),
    Partition(usize, FilterOp),
    PartitionIn(usize),
    Distance(FilterOp),
    Key(FilterOp),
    KeyIn,
    /// `ef_search = ?` (tables with an ANN index).
    EfSearch,
    /// `exact = ?` (tables with an ANN index).
    Exact,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryPlan {
    /// Every row, in rowid order.
    FullScan,
    /// Rows with a given key (`rowid = ?` or `id = ?`, or an IN list).
    Point { arg: PlanArg },
    /// Nearest neighbours of `vector_column`, with xFilter arguments in `args` order.
    Knn {
        vector_column: usize,
        args: Vec<PlanArg>,
    },
}

impl fmt::Display for PlanArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanArg::Query => write!(f, "q"),
            PlanArg::K => write!(f, "k"),
            PlanArg::Limit => write!(f, "limit"),
            PlanArg::Offset => write!(f, "offset"),
            PlanArg::Metadata(i, op) => write!(f, "m{i}{}", op.code()),
            PlanArg::MetadataIn(i) => write!(f, "m{i}in"),
            PlanArg::Partition(i, op) => write!(f, "p{i}{}", op.code()),
            PlanArg::PartitionIn(i) => write!(f, "p{i}in"),
            PlanArg::Distance(op) => write!(f, "d{}", op.code()),
            PlanArg::Key(op) => write!(f, "r{}", op.code()),
            PlanArg::KeyIn => write!(f, "rin"),
            PlanArg::EfSearch => write!(f, "ef"),
            PlanArg::Exact => write!(f, "exact"),
        }
    }
}

impl PlanArg {
    /// Whether the argument restricts which rows may be returned (as opposed to the query
    /// vector, k and the search knobs).
    pub fn is_filter(self) -> bool {
        matches!(
            self,
            PlanArg::Metadata(..)
                | PlanArg::MetadataIn(_)
                | PlanArg::Partition(..)
                | PlanArg::PartitionIn(_)
                | PlanArg::Distance(_)
                | PlanArg::Key(_)
                | PlanArg::KeyIn
        )
    }

    fn parse(s: &str) -> Option<PlanArg> {
        match s {
            "q" => return Some(PlanArg::Query),
            "k" => return Some(PlanArg::K),
            "limit" => return Some(PlanArg::Limit),
            "offset" => return Some(PlanArg::Offset),
            "rin" => return Some(PlanArg::KeyIn),
            "ef" => return Some(PlanArg::EfSearch),
            "exact" => return Some(PlanArg::Exact),
            _ => {}
        }
        let (kind, rest) = s.split_at(1);
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let code = &rest[digits.len()..];
        let index = digits.parse::<usize>().ok();
        match (kind, index, code) {
            ("m", Some(i), "in") => Some(PlanArg::MetadataIn(i)),
            ("p", Some(i), "in") => Some(PlanArg::PartitionIn(i)),
            ("m", Some(i), c) => FilterOp::from_code(c).map(|op| PlanArg::Metadata(i, op)),
            ("p", Some(i), c) => FilterOp::from_code(c).map(|op| PlanArg::Partition(i, op)),
            ("d", None, c) => FilterOp::from_code(c).map(PlanArg::Distance),
            ("r", None, c) => FilterOp::from_code(c).map(PlanArg::Key),
            _ => None,
        }
    }
}

impl fmt::Display for QueryPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryPlan::FullScan => write!(f, "scan"),
            QueryPlan::Point { arg } => write!(f, "point:{arg}"),
            QueryPlan::Knn {
                vector_column,
                args,
            } => {
                let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
                write!(f, "knn{vector_column}:{}", args.join(","))
            }
        }
    }
}

impl QueryPlan {
    pub fn parse(s: &str) -> Vec0Result<QueryPlan> {
        let bad = || Vec0Error::internal(format!("unreadable vec0 query plan {s:?}"));
        if s == "scan" {
            return Ok(QueryPlan::FullScan);
        }
        if let Some(arg) = s.strip_prefix("point:") {
            return Ok(QueryPlan::Point {
                arg: PlanArg::parse(arg).ok_or_else(bad)?,
            });
        }
        let rest = s.strip_prefix("knn").ok_or_else(bad)?;
        let (column, args) = rest.split_once(':').ok_or_else(bad)?;
        Ok(QueryPlan::Knn {
            vector_column: column.parse().map_err(|_| bad())?,
            args: args
                .split(',')
                .filter(|a| !a.is_empty())
                .map(|a| PlanArg::parse(a).ok_or_else(bad))
                .collect::<Vec0Result<_>>()?,
        })
    }
}

fn column_name(layout: &Layout, role: ColumnRole) -> String {
    match role {
        ColumnRole::Key => layout
            .primary_key
            .as_ref()
            .map_or("rowid".to_string(), |(n, _)| n.clone()),
        ColumnRole::Vector(i) => layout.vectors[i].name.clone(),
        ColumnRole::Metadata(i) => layout.metadata[i].name.clone(),
        ColumnRole::Partition(i) => layout.partitions[i].name.clone(),
        ColumnRole::Auxiliary(i) => layout.auxiliary[i].clone(),
        ColumnRole::Distance => "distance".into(),
        ColumnRole::K => "k".into(),
        ColumnRole::Command => layout.table.clone(),
        ColumnRole::EfSearch => "ef_search".into(),
        ColumnRole::Exact => "exact".into(),
    }
}

fn op_name(op: ConstraintOp) -> String {
    match op {
        ConstraintOp::Like => "LIKE".into(),
        ConstraintOp::Glob => "GLOB".into(),
        ConstraintOp::Regexp => "REGEXP".into(),
        ConstraintOp::IsNull => "IS NULL".into(),
        ConstraintOp::IsNotNull => "IS NOT NULL".into(),
        ConstraintOp::Is => "IS".into(),
        ConstraintOp::IsNot => "IS NOT".into(),
        ConstraintOp::Match => "MATCH".into(),
        other => format!("{other:?}"),
    }
}

/// Chooses a plan for the constraints SQLite offers and tells SQLite which ones it consumes.
/// Errors are for queries that cannot be answered correctly (an unsupported filter inside a
/// KNN query); `SQLITE_CONSTRAINT` asks SQLite to try another set of usable constraints.
pub fn best_index(layout: &Layout, info: &mut IndexInfo<'_>) -> Vec0Result<QueryPlan> {
    let constraints = info.constraints();
    let role = |col: i32| -> Option<ColumnRole> {
        if col < 0 {
            Some(ColumnRole::Key)
        } else {
            layout.columns.get(col as usize).copied()
        }
    };

    let matches: Vec<_> = constraints
        .iter()
        .filter(|c| {
            c.op == ConstraintOp::Match && matches!(role(c.column), Some(ColumnRole::Vector(_)))
        })
        .collect();
    if matches.len() > 1 {
        return Err(Vec0Error::plan(
            "only 1 MATCH operator is allowed in a single vec0 query",
        ));
    }

    let Some(m) = matches.first() else {
        // Not a KNN query: a key lookup if one is usable, otherwise a full scan.
        for c in constraints.iter().filter(|c| c.usable) {
            if role(c.column) == Some(ColumnRole::Key) && c.op == ConstraintOp::Eq {
                let arg = if info.take_in(c.index) {
                    PlanArg::KeyIn
                } else {
                    PlanArg::Key(FilterOp::Eq)
                };
                info.use_constraint(c.index, 1, true);
                info.set_estimated_cost(10.0);
                info.set_estimated_rows(1);
                if arg != PlanArg::KeyIn {
                    info.set_unique();
                }
                return Ok(QueryPlan::Point { arg });
            }
        }
        info.set_estimated_cost(1e7);
        info.set_estimated_rows(1_000_000);
        return Ok(QueryPlan::FullScan);
    };
    if !m.usable {
        return Err(Vec0Error::Unusable("MATCH not usable"));
    }
    let Some(ColumnRole::Vector(vector_column)) = role(m.column) else {
        unreachable!("filtered above");
    };

    let mut args = vec![PlanArg::Query];
    info.use_constraint(m.index, 1, true);
    let mut has_k = false;
    let mut limit = None;
    let mut offset = None;
    for c in &constraints {
        if c.index == m.index {
            continue;
        }
        let r = role(c.column);
        let name = || r.map(|r| column_name(layout, r)).unwrap_or_default();
        if !c.usable {
            match r {
                // Without k (or the index knobs) this call has no plan; SQLite keeps the
                // one from a call where they are usable.
                Some(ColumnRole::K | ColumnRole::EfSearch | ColumnRole::Exact) => {
                    return Err(Vec0Error::Unusable("constraint not usable"));
                }
                // SQLite retries without IN lists; applied after the top k, the list would
                // shorten the answer, so keep only the plan that pre-filters with it.
                Some(ColumnRole::Metadata(_) | ColumnRole::Partition(_) | ColumnRole::Key)
                    if info.is_in(c.index) =>
                {
                    return Err(Vec0Error::Unusable("IN constraint not usable"));
                }
                // A value from another table's current row (a join or a correlated
                // subquery): SQLite checks it on the KNN's rows, so k stays the
                // statement's top k instead of becoming "k per joined row".
                _ => continue,
            }
        }
        let arg = match (c.op, r) {
            (ConstraintOp::Limit, _) => {
                limit = Some(c.index);
                continue;
            }
            (ConstraintOp::Offset, _) => {
                offset = Some(c.index);
                continue;
            }
            (ConstraintOp::Eq, Some(ColumnRole::K)) => {
                if has_k {
                    return Err(Vec0Error::plan(
                        "vec0: only one 'k = ?' constraint is allowed",
                    ));
                }
                has_k = true;
                PlanArg::K
            }
            (ConstraintOp::Eq, Some(ColumnRole::EfSearch)) => {
                if args.contains(&PlanArg::EfSearch) {
                    return Err(Vec0Error::plan(
                        "vec0: only one 'ef_search = ?' constraint is allowed",
                    ));
                }
                PlanArg::EfSearch
            }
            (ConstraintOp::Eq, Some(ColumnRole::Exact)) => {
                if args.contains(&PlanArg::Exact) {
                    return Err(Vec0Error::plan(
                        "vec0: only one 'exact = ?' constraint is allowed",
                    ));
                }
                PlanArg::Exact
            }
            (op, Some(ColumnRole::EfSearch | ColumnRole::Exact)) => {
                return Err(Vec0Error::plan(format!(
                    "vec0 KNN query: only '{} = ?' is supported, not {}",
                    name(),
                    op_name(op)
                )))
            }
            (op, Some(ColumnRole::Metadata(i))) => {
                if op == ConstraintOp::Eq && info.take_in(c.index) {
                    PlanArg::MetadataIn(i)
                } else if let Some(f) = FilterOp::from_constraint(op) {
                    PlanArg::Metadata(i, f)
                } else {
                    // sqlite-vec's text first, then what vecsql adds (it also takes IN).
                    return Err(Vec0Error::plan(format!(
                        "An illegal WHERE constraint was provided on a vec0 metadata column in a \
                         KNN query. Only one of EQUALS, GREATER_THAN, LESS_THAN_OR_EQUAL, \
                         LESS_THAN, GREATER_THAN_OR_EQUAL, NOT_EQUALS is allowed. ({} on \
                         metadata column \"{}\"; vecsql also takes BETWEEN and IN)",
                        op_name(op),
                        name()
                    )));
                }
            }
            (op, Some(ColumnRole::Partition(i))) => {
                if op == ConstraintOp::Eq && info.take_in(c.index) {
                    PlanArg::PartitionIn(i)
                } else if let Some(f) = FilterOp::from_constraint(op) {
                    PlanArg::Partition(i, f)
                } else {
                    return Err(Vec0Error::plan(format!(
                        "vec0 KNN query: {} on partition key \"{}\" is not supported",
                        op_name(op),
                        name()
                    )));
                }
            }
            (op, Some(ColumnRole::Distance)) => match FilterOp::from_constraint(op) {
                Some(f @ (FilterOp::Lt | FilterOp::Le | FilterOp::Gt | FilterOp::Ge)) => {
                    PlanArg::Distance(f)
                }
                _ => {
                    return Err(Vec0Error::plan(format!(
                        "vec0 KNN query: only <, <=, > and >= are supported on distance, not {}",
                        op_name(op)
                    )))
                }
            },
            (ConstraintOp::Eq, Some(ColumnRole::Key)) if info.take_in(c.index) => PlanArg::KeyIn,
            // `key = x` is how SQLite hands a KNN a join value, and on the right of a LEFT
            // JOIN it plans with every term usable at once, so a join value cannot be told
            // from a constant here. Left to SQLite, it filters the top k (as in sqlite-vec);
            // IN lists, which no join produces, narrow the candidates before the top k.
            (ConstraintOp::Eq, Some(ColumnRole::Key)) => continue,
            (op, Some(ColumnRole::Key)) => match FilterOp::from_constraint(op) {
                Some(f) => PlanArg::Key(f),
                None => {
                    return Err(Vec0Error::plan(format!(
                        "vec0 KNN query: {} on \"{}\" is not supported",
                        op_name(op),
                        name()
                    )))
                }
            },
            (_, Some(ColumnRole::Auxiliary(_))) => {
                return Err(Vec0Error::plan(format!(
                    "An illegal WHERE constraint was provided on a vec0 auxiliary column in a \
                     KNN query. (\"{}\": filter in an outer query or make it a metadata column)",
                    name()
                )))
            }
            (op, Some(ColumnRole::Vector(_))) => {
                return Err(Vec0Error::plan(format!(
                    "vec0 KNN query: {} on vector column \"{}\" is not supported",
                    op_name(op),
                    name()
                )))
            }
            (op, _) => {
                return Err(Vec0Error::plan(format!(
                    "vec0 KNN query: unsupported constraint {} on \"{}\"",
                    op_name(op),
                    name()
                )))
            }
        };
        args.push(arg);
        info.use_constraint(c.index, args.len() as i32, true);
    }
    if !has_k {
        let Some(limit) = limit else {
            // SQLite may offer LIMIT only in a later call; an error now would end planning.
            // This plan is priced out of the race and reports the missing k if chosen anyway.
            info.set_estimated_cost(1e300);
            info.set_estimated_rows(i64::MAX);
            return Ok(QueryPlan::Knn {
                vector_column,
                args,
            });
        };
        args.push(PlanArg::Limit);
        info.use_constraint(limit, args.len() as i32, true);
        if let Some(offset) = offset {
            args.push(PlanArg::Offset);
            // SQLite still applies OFFSET itself; k must cover the skipped rows too.
            info.use_constraint(offset, args.len() as i32, false);
        }
    }
    let distance_col = layout.distance_column() as i32;
    let order = info.order_by();
    if order.len() == 1 && order[0].column == distance_col && !order[0].desc {
        info.set_order_by_consumed(true);
    }
    // Each consumed filter multiplies the cost, so that the plan SQLite gets when join terms
    // are unusable (fewer filters, no dependency on other tables) dominates any plan that
    // narrows the KNN by another table's row: SQLite then runs the KNN once, as the outer
    // loop, and joins its k rows. Filters from constants are consumed in every call alike.
    let filters = args.iter().filter(|a| a.is_filter()).count();
    info.set_estimated_cost(100.0 * 4f64.powi(filters as i32));
    info.set_estimated_rows(10);
    Ok(QueryPlan::Knn {
        vector_column,
        args,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_round_trip_through_text() {
        let plans = [
            QueryPlan::FullScan,
            QueryPlan::Point {
                arg: PlanArg::Key(FilterOp::Eq),
            },
            QueryPlan::Point {
                arg: PlanArg::KeyIn,
            },
            QueryPlan::Knn {
                vector_column: 3,
                args: vec![
                    PlanArg::Query,
                    PlanArg::K,
                    PlanArg::Limit,
                    PlanArg::Offset,
                    PlanArg::Metadata(12, FilterOp::Ge),
                    PlanArg::MetadataIn(0),
                    PlanArg::Partition(1, FilterOp::Ne),
                    PlanArg::PartitionIn(2),
                    PlanArg::Distance(FilterOp::Lt),
                    PlanArg::Key(FilterOp::Gt),
                    PlanArg::KeyIn,
                    PlanArg::EfSearch,
                    PlanArg::Exact,
                ],
            },
        ];
        for plan in plans {
            assert_eq!(QueryPlan::parse(&plan.to_string()).unwrap(), plan, "{plan}");
        }
        assert!(QueryPlan::parse("knnx:q").is_err());
        assert!(QueryPlan::parse("knn0:zz").is_err());
    }
}
