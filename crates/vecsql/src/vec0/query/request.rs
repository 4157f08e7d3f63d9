//! A KNN request: xFilter's arguments bound to what they mean, checked and typed, before any
//! row is read. Built from plain values ([`Arg`]), so it is testable without a cursor.

use std::collections::HashSet;

use super::filter::{ColumnFilter, Condition, RowFilter};
use super::plan::{FilterOp, PlanArg};
use super::scan::Query;
use crate::ffi::{OwnedValue, SqlArg, SqlValue};
use crate::vec0::affinity::Affinity;
use crate::vec0::error::{ArgumentError, Vec0Error, Vec0Result};
use crate::vec0::index::MAX_EF;
use crate::vec0::layout::{ColumnRole, Layout};
use crate::vec0::values;

/// sqlite-vec's bound on k: results are held in memory and sorted.
pub const MAX_K: i64 = 4096;

/// One xFilter argument as the request reads it.
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    /// A single value (with its subtype: the query vector's element type travels there).
    Value(SqlArg<'a>),
    /// The whole list of an `IN (...)` constraint.
    List(Vec<OwnedValue>),
}

impl<'a> Arg<'a> {
    fn value(&self) -> Vec0Result<&SqlArg<'a>> {
        match self {
            Arg::Value(v) => Ok(v),
            Arg::List(_) => Err(Vec0Error::internal("a list where the plan wants one value")),
        }
    }

    fn list(&self) -> Vec0Result<&[OwnedValue]> {
        match self {
            Arg::List(l) => Ok(l),
            Arg::Value(_) => Err(Vec0Error::internal("one value where the plan wants a list")),
        }
    }
}

/// Everything a KNN query asks for.
#[derive(Debug)]
pub struct KnnRequest {
    pub vector_column: usize,
    pub query: Query,
    /// The statement's k (from `k = ?`, or LIMIT plus OFFSET).
    pub k: i64,
    /// Pre-filters on metadata, partition keys and integer keys.
    pub filter: RowFilter,
    /// Conditions on a text primary key, resolved to rowids through `{t}_rowids` before the
    /// search (see [`super::filter::render_conditions`]).
    pub text_key: Vec<Condition>,
    /// `distance < x` and the like: a range search.
    pub distance_bounds: Vec<(FilterOp, f64)>,
    /// `ef_search = N` (indexed columns only).
    pub ef_search: Option<usize>,
    /// `exact = 1`: scan even when the column is indexed.
    pub exact: bool,
}

/// `k`, `LIMIT` and the index knobs: integers, also when they arrive as text or a whole real
/// (Datasette binds every URL parameter as text), as an INTEGER column would take them.
pub fn integer_arg(value: &SqlValue<'_>, what: &str) -> Vec0Result<i64> {
    match Affinity::Integer.apply(value.to_owned_value()) {
        OwnedValue::Integer(i) => Ok(i),
        OwnedValue::Real(f) if f.fract() == 0.0 => Ok(f as i64),
        other => {
            Err(ArgumentError::new(what, "an integer", other.as_value().storage_class()).into())
        }
    }
}

/// Integer keys are checked against each chunk's rowid array (an IN list as a set, which
/// also tells the scan which chunks hold the listed rows); text keys live in `{t}_rowids` and
/// are resolved to rowids before the search.
fn key_condition(
    layout: &Layout,
    condition: Condition,
    filter: &mut RowFilter,
    text_key: &mut Vec<Condition>,
) {
    if layout.text_primary_key() {
        text_key.push(condition);
        return;
    }
    match condition {
        Condition::In(list) => {
            // A value that an INTEGER column would not store as an integer equals no rowid.
            let ids: HashSet<i64> = list
                .into_iter()
                .filter_map(|v| match Affinity::Integer.store(v) {
                    OwnedValue::Integer(i) => Some(i),
                    _ => None,
                })
                .collect();
            filter.allow_only(ids);
        }
        compare => filter.rowid.push(compare),
    }
}

impl KnnRequest {
    /// Binds the arguments of a KNN plan on `vector_column` (`plan_args[i]` says what `args[i]`
    /// is). Constraint values get the column's affinity, as SQLite gives them for a table.
    pub fn bind(
        layout: &Layout,
        vector_column: usize,
        plan_args: &[PlanArg],
        args: &[Arg<'_>],
    ) -> Vec0Result<KnnRequest> {
        if plan_args.len() != args.len() {
            return Err(Vec0Error::internal(format!(
                "KNN plan with {} arguments got {}",
                plan_args.len(),
                args.len()
            )));
        }
        let typed = |role: ColumnRole, v: OwnedValue| layout.affinity(role).apply(v);
        let typed_list = |role: ColumnRole, arg: &Arg<'_>| -> Vec0Result<Vec<OwnedValue>> {
            Ok(arg.list()?.iter().map(|v| typed(role, v.clone())).collect())
        };
        let mut query = None;
        let mut k = None;
        let mut limit = None;
        let mut offset = 0i64;
        let mut filter = RowFilter::default();
        let mut text_key = Vec::new();
        let mut distance_bounds = Vec::new();
        let mut ef_search = None;
        let mut exact = false;
        for (plan_arg, arg) in plan_args.iter().zip(args) {
            match *plan_arg {
                PlanArg::EfSearch => {
                    let ef = integer_arg(&arg.value()?.value, "ef_search")?;
                    if !(1..=MAX_EF as i64).contains(&ef) {
                        return Err(ArgumentError::new(
                            "ef_search",
                            format!("from 1 to {MAX_EF}"),
                            ef.to_string(),
                        )
                        .into());
                    }
                    ef_search = Some(ef as usize);
                }
                PlanArg::Exact => exact = integer_arg(&arg.value()?.value, "exact")? != 0,
                PlanArg::Query => {
                    query = Some(values::query(&layout.vectors[vector_column], arg.value()?)?)
                }
                PlanArg::K => k = Some(integer_arg(&arg.value()?.value, "k")?),
                PlanArg::Limit => limit = Some(integer_arg(&arg.value()?.value, "LIMIT")?),
                PlanArg::Offset => offset = integer_arg(&arg.value()?.value, "OFFSET")?.max(0),
                PlanArg::Metadata(column, op) => filter.metadata.push(ColumnFilter {
                    column,
                    condition: Condition::Compare(
                        op,
                        typed(
                            ColumnRole::Metadata(column),
                            arg.value()?.value.to_owned_value(),
                        ),
                    ),
                }),
                PlanArg::MetadataIn(column) => filter.metadata.push(ColumnFilter {
                    column,
                    condition: Condition::In(typed_list(ColumnRole::Metadata(column), arg)?),
                }),
                PlanArg::Partition(column, op) => filter.partitions.push(ColumnFilter {
                    column,
                    condition: Condition::Compare(
                        op,
                        typed(
                            ColumnRole::Partition(column),
                            arg.value()?.value.to_owned_value(),
                        ),
                    ),
                }),
                PlanArg::PartitionIn(column) => filter.partitions.push(ColumnFilter {
                    column,
                    condition: Condition::In(typed_list(ColumnRole::Partition(column), arg)?),
                }),
                PlanArg::Distance(op) => {
                    let bound = match arg.value()?.value {
                        SqlValue::Integer(i) => i as f64,
                        SqlValue::Real(f) => f,
                        other => {
                            return Err(ArgumentError::new(
                                "distance constraint",
                                "a number",
                                other.storage_class(),
                            )
                            .into())
                        }
                    };
                    distance_bounds.push((op, bound));
                }
                PlanArg::Key(op) => {
                    let value = typed(ColumnRole::Key, arg.value()?.value.to_owned_value());
                    key_condition(
                        layout,
                        Condition::Compare(op, value),
                        &mut filter,
                        &mut text_key,
                    );
                }
                PlanArg::KeyIn => {
                    let list = typed_list(ColumnRole::Key, arg)?;
                    key_condition(layout, Condition::In(list), &mut filter, &mut text_key);
                }
            }
        }
        let k = match (k, limit) {
            (Some(k), _) => k,
            (None, Some(limit)) => limit.saturating_add(offset),
            (None, None) => {
                let mut message =
                    "A LIMIT or 'k = ?' constraint is required on vec0 knn queries.".to_string();
                if crate::ffi::host_version() < 3_041_000 {
                    message.push_str(
                        " (SQLite before 3.41 does not pass LIMIT to virtual tables in MATCH queries: use 'AND k = ?')",
                    );
                }
                return Err(Vec0Error::plan(message));
            }
        };
        if k < 0 {
            return Err(ArgumentError::new("k", "an integer >= 0", k.to_string())
                .worded("k value in knn queries must be greater than or equal to 0.")
                .into());
        }
        if k > MAX_K {
            return Err(
                ArgumentError::new("k", format!("at most {MAX_K}"), k.to_string())
                    .worded(format!(
                        "k value in knn query too large, provided {k} and the limit is {MAX_K}"
                    ))
                    .into(),
            );
        }
        Ok(KnnRequest {
            vector_column,
            query: query.ok_or_else(|| Vec0Error::internal("KNN plan without a query vector"))?,
            k,
            filter,
            text_key,
            distance_bounds,
            ef_search,
            exact,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vec0::schema::parse_definition;

    fn layout(def: &str) -> Layout {
        let args: Vec<String> = def.split(';').map(str::to_string).collect();
        Layout::new("main", "t", &parse_definition(&args).unwrap()).unwrap()
    }

    fn value(v: SqlValue<'static>) -> Arg<'static> {
        Arg::Value(SqlArg::plain(v))
    }

    const QUERY: SqlValue<'static> = SqlValue::Text(b"[1, 2]");

    #[test]
    fn binds_k_filters_and_knobs_with_the_columns_affinity() {
        let layout = layout("emb float[2];n integer;tag text");
        let plan = [
            PlanArg::Query,
            PlanArg::K,
            PlanArg::Metadata(0, FilterOp::Eq),
            PlanArg::MetadataIn(1),
            PlanArg::Key(FilterOp::Gt),
        ];
        let args = [
            value(QUERY),
            value(SqlValue::Text(b"3")),
            value(SqlValue::Text(b"4")),
            Arg::List(vec![OwnedValue::Integer(5)]),
            value(SqlValue::Real(2.0)),
        ];
        let request = KnnRequest::bind(&layout, 0, &plan, &args).unwrap();
        assert_eq!(request.k, 3);
        let Condition::Compare(FilterOp::Eq, OwnedValue::Integer(4)) =
            request.filter.metadata[0].condition
        else {
            panic!("{:?}", request.filter.metadata[0]);
        };
        let Condition::In(ref list) = request.filter.metadata[1].condition else {
            panic!("{:?}", request.filter.metadata[1]);
        };
        assert_eq!(list, &[OwnedValue::Text("5".into())]);
        assert!(
            matches!(
                request.filter.rowid[..],
                [Condition::Compare(FilterOp::Gt, OwnedValue::Real(2.0))]
            ),
            "{:?}",
            request.filter.rowid
        );
        assert!(request.text_key.is_empty() && !request.exact && request.ef_search.is_none());
    }

    #[test]
    fn text_keys_are_resolved_apart_and_limit_counts_the_offset() {
        let layout = layout("id text primary key;emb float[2]");
        let plan = [
            PlanArg::Query,
            PlanArg::KeyIn,
            PlanArg::Limit,
            PlanArg::Offset,
        ];
        let args = [
            value(QUERY),
            Arg::List(vec![OwnedValue::Integer(7)]),
            value(SqlValue::Integer(5)),
            value(SqlValue::Integer(2)),
        ];
        let request = KnnRequest::bind(&layout, 0, &plan, &args).unwrap();
        assert_eq!(request.k, 7);
        assert!(request.filter.rowid.is_empty());
        assert!(
            matches!(&request.text_key[..], [Condition::In(l)] if l == &[OwnedValue::Text("7".into())])
        );
    }

    #[test]
    fn refuses_a_missing_or_bad_k_and_bad_knobs() {
        // The missing-k message names the host's SQLite version.
        crate::ffi::set_api(&crate::ffi::ApiRoutines::LINKED);
        let layout = layout("emb float[2] indexed by hnsw()");
        let bind = |plan: &[PlanArg], args: &[Arg<'_>]| {
            KnnRequest::bind(&layout, 0, plan, args)
                .unwrap_err()
                .to_string()
        };
        assert!(bind(&[PlanArg::Query], &[value(QUERY)]).starts_with("A LIMIT or 'k = ?'"));
        let k = |v| bind(&[PlanArg::Query, PlanArg::K], &[value(QUERY), value(v)]);
        assert_eq!(k(SqlValue::Real(2.5)), "k must be an integer, got FLOAT");
        assert_eq!(
            k(SqlValue::Integer(-1)),
            "k value in knn queries must be greater than or equal to 0."
        );
        assert!(k(SqlValue::Integer(MAX_K + 1)).contains("too large"));
        assert!(bind(
            &[PlanArg::Query, PlanArg::K, PlanArg::EfSearch],
            &[
                value(QUERY),
                value(SqlValue::Integer(3)),
                value(SqlValue::Integer(0))
            ]
        )
        .starts_with("ef_search must be from 1 to"));
    }
}
