//! `vecsql index`: adds an HNSW index to a vector column of an existing table, or drops one,
//! through the table's `'create-index'` / `'drop-index'` commands (the rows stay in place;
//! the index is built from them in one statement).

use std::time::Instant;

use anyhow::{Context, Result};

use crate::tables::{self, quote};
use crate::IndexArgs;

pub fn run(args: &IndexArgs) -> Result<()> {
    let conn = crate::open(&args.db, false)?;
    let table = tables::find(&conn, &args.table)?;
    let (column, _) = table.vector_column(args.column.as_deref())?;
    let command = if args.drop {
        format!("drop-index {column}")
    } else {
        format!(
            "create-index {column} {}",
            crate::hnsw_clause(args.m, args.ef_construction, args.quantizer)
        )
    };
    let name = quote(&table.name);
    let sql = format!("insert into {name}({name}) values ('{command}')");
    if args.show_sql {
        println!("{sql};");
    }
    let started = Instant::now();
    conn.execute(&sql, []).with_context(|| table.name.clone())?;
    let rows = table.row_count(&conn)?;
    let what = if args.drop {
        "dropped the index of"
    } else {
        "indexed"
    };
    eprintln!(
        "{what} {}.{column} ({rows} rows) in {:.1} s",
        table.name,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
