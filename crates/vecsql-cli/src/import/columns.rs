//! `--metadata`, `--partition` and `--aux`: the columns an import fills besides the key, the
//! vector and the text, each from the record field of the same name. Their types come from the
//! arguments (required for a new table's metadata and partition keys, whose type decides how
//! filters compare) or from an existing table's definition, which the arguments must match.

use anyhow::{bail, Result};
use vecsql::vec0::schema::{AuxiliaryType, ColumnKind, KeyType, MetadataType};

use crate::readers::{ColumnSpec, ValueType};
use crate::tables::{quote, Vec0Table};

/// Which kind of vec0 column an argument asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    // In the order a new table declares them.
    Partition,
    Metadata,
    Auxiliary,
}

impl Role {
    fn option(self) -> &'static str {
        match self {
            Role::Metadata => "--metadata",
            Role::Partition => "--partition",
            Role::Auxiliary => "--aux",
        }
    }

    /// The types the role takes, by the name the arguments use.
    fn types(self) -> &'static [(&'static str, ValueType)] {
        match self {
            Role::Metadata => &[
                ("integer", ValueType::Integer),
                ("float", ValueType::Float),
                ("boolean", ValueType::Boolean),
                ("text", ValueType::Text),
            ],
            Role::Partition => &[("integer", ValueType::Integer), ("text", ValueType::Text)],
            Role::Auxiliary => &[
                ("text", ValueType::Text),
                ("integer", ValueType::Integer),
                ("float", ValueType::Float),
                ("any", ValueType::Any),
            ],
        }
    }

    fn type_names(self) -> String {
        let names: Vec<&str> = self.types().iter().map(|(n, _)| *n).collect();
        names.join(", ")
    }
}

/// One `NAME[:TYPE]` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnArg {
    pub role: Role,
    pub name: String,
    pub ty: Option<ValueType>,
}

fn parse(role: Role, arg: &str) -> Result<ColumnArg, String> {
    let (name, ty) = match arg.split_once(':') {
        Some((name, ty)) => (name.trim(), Some(ty.trim())),
        None => (arg.trim(), None),
    };
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "{name:?} is not a column name: letters, digits and underscores, starting with a letter"
        ));
    }
    let ty = match ty {
        None => None,
        Some(ty) => Some(
            role.types()
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(ty))
                .map(|(_, t)| *t)
                .ok_or_else(|| {
                    format!(
                        "{ty:?} is not a type {} takes; use {}",
                        role.option(),
                        role.type_names()
                    )
                })?,
        ),
    };
    Ok(ColumnArg {
        role,
        name: name.to_string(),
        ty,
    })
}

/// clap's parser for `--metadata`.
pub fn metadata_arg(arg: &str) -> Result<ColumnArg, String> {
    parse(Role::Metadata, arg)
}

/// clap's parser for `--partition`.
pub fn partition_arg(arg: &str) -> Result<ColumnArg, String> {
    parse(Role::Partition, arg)
}

/// clap's parser for `--aux`.
pub fn aux_arg(arg: &str) -> Result<ColumnArg, String> {
    parse(Role::Auxiliary, arg)
}

/// The columns of one import, with their types settled.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    columns: Vec<(Role, String, ValueType)>,
}

impl Columns {
    /// Settles `args` against the table being written, `existing` when it exists. `reserved`:
    /// the key, vector and text columns' names, which the arguments may not reuse.
    pub fn resolve(
        args: &[ColumnArg],
        existing: Option<&Vec0Table>,
        reserved: &[&str],
    ) -> Result<Columns> {
        let mut columns: Vec<(Role, String, ValueType)> = Vec::new();
        for arg in args {
            if columns
                .iter()
                .any(|(_, n, _)| n.eq_ignore_ascii_case(&arg.name))
            {
                bail!("column {} is named twice", arg.name);
            }
            if let Some(r) = reserved.iter().find(|r| r.eq_ignore_ascii_case(&arg.name)) {
                bail!(
                    "{} {}: the column {r} is filled already (the key, vector or text); give \
                     another name",
                    arg.role.option(),
                    arg.name
                );
            }
            let ty = match existing {
                Some(table) => existing_type(table, arg)?,
                None => match (arg.ty, arg.role) {
                    (Some(ty), _) => ty,
                    (None, Role::Auxiliary) => ValueType::Text,
                    (None, role) => bail!(
                        "{} {} needs a type for the new table: {}:TYPE with TYPE one of {}",
                        role.option(),
                        arg.name,
                        arg.name,
                        role.type_names()
                    ),
                },
            };
            columns.push((arg.role, arg.name.clone(), ty));
        }
        if let Some(table) = existing {
            let unfilled: Vec<&str> = table
                .columns_where(|kind| {
                    matches!(kind, ColumnKind::Metadata(_) | ColumnKind::PartitionKey(_))
                })
                .filter(|c| !reserved.iter().any(|r| r.eq_ignore_ascii_case(&c.name)))
                .filter(|c| {
                    !columns
                        .iter()
                        .any(|(_, n, _)| n.eq_ignore_ascii_case(&c.name))
                })
                .map(|c| c.name.as_str())
                .collect();
            if !unfilled.is_empty() {
                bail!(
                    "{} has metadata or partition key columns the import does not fill, and vec0 \
                     keeps them non-NULL: {}; name them with --metadata or --partition",
                    table.name,
                    unfilled.join(", ")
                );
            }
        }
        Ok(Columns { columns })
    }

    /// What the reader reads for each column, in order.
    pub fn specs(&self) -> Vec<ColumnSpec> {
        self.columns
            .iter()
            .map(|(role, name, ty)| ColumnSpec {
                name: name.clone(),
                ty: *ty,
                nullable: *role == Role::Auxiliary,
            })
            .collect()
    }

    /// The quoted names, for the INSERT.
    pub fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.columns.iter().map(|(_, name, _)| quote(name))
    }

    /// The new table's definition of each column, partition keys first (vec0 takes any order;
    /// this one reads as the table is stored).
    pub fn definitions(&self) -> Vec<String> {
        let mut sorted: Vec<&(Role, String, ValueType)> = self.columns.iter().collect();
        sorted.sort_by_key(|(role, _, _)| *role as u8);
        sorted
            .into_iter()
            .map(|(role, name, ty)| {
                let ty = match ty {
                    ValueType::Integer => "integer",
                    ValueType::Float => "float",
                    ValueType::Boolean => "boolean",
                    ValueType::Text => "text",
                    ValueType::Any => "",
                };
                match role {
                    Role::Partition => format!("{name} {ty} partition key"),
                    Role::Metadata => format!("{name} {ty}"),
                    Role::Auxiliary => format!("+{name} {ty}").trim_end().to_string(),
                }
            })
            .collect()
    }
}

/// The type of `arg`'s column in an existing table, which must be of the argument's role (and
/// type, when given).
fn existing_type(table: &Vec0Table, arg: &ColumnArg) -> Result<ValueType> {
    let Some(column) = table.def.column(&arg.name) else {
        bail!(
            "{} has no column {}; {} applies to an existing column, or to a new table",
            table.name,
            arg.name,
            arg.role.option()
        );
    };
    let found = match (arg.role, &column.kind) {
        (Role::Metadata, ColumnKind::Metadata(t)) => Some(match t {
            MetadataType::Integer => ValueType::Integer,
            MetadataType::Float => ValueType::Float,
            MetadataType::Boolean => ValueType::Boolean,
            MetadataType::Text => ValueType::Text,
        }),
        (Role::Partition, ColumnKind::PartitionKey(t)) => Some(match t {
            KeyType::Integer => ValueType::Integer,
            KeyType::Text => ValueType::Text,
        }),
        (Role::Auxiliary, ColumnKind::Auxiliary(t)) => Some(match t {
            AuxiliaryType::Integer => ValueType::Integer,
            AuxiliaryType::Float => ValueType::Float,
            AuxiliaryType::Text => ValueType::Text,
            AuxiliaryType::Any | AuxiliaryType::Blob => ValueType::Any,
        }),
        _ => None,
    };
    match (found, arg.ty) {
        (None, _) => bail!(
            "{}.{} is not a {} column; name it with the option of its kind",
            table.name,
            column.name,
            match arg.role {
                Role::Metadata => "metadata",
                Role::Partition => "partition key",
                Role::Auxiliary => "auxiliary",
            }
        ),
        (Some(found), Some(given)) if found != given => bail!(
            "{}.{} is {}, not {} as {} {} says",
            table.name,
            column.name,
            type_name(found),
            type_name(given),
            arg.role.option(),
            arg.name
        ),
        (Some(found), _) => Ok(found),
    }
}

fn type_name(ty: ValueType) -> &'static str {
    match ty {
        ValueType::Integer => "integer",
        ValueType::Float => "float",
        ValueType::Boolean => "boolean",
        ValueType::Text => "text",
        ValueType::Any => "untyped",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_name_a_column_and_a_type_the_role_takes() {
        assert_eq!(
            metadata_arg("year:Integer").unwrap(),
            ColumnArg {
                role: Role::Metadata,
                name: "year".into(),
                ty: Some(ValueType::Integer)
            }
        );
        assert_eq!(aux_arg("title").unwrap().ty, None);
        assert!(partition_arg("user:float")
            .unwrap_err()
            .contains("use integer, text"));
        assert!(metadata_arg("my col:text")
            .unwrap_err()
            .contains("not a column name"));
    }

    #[test]
    fn a_new_table_needs_types_for_filterable_columns_and_free_names() {
        let args = [
            aux_arg("title").unwrap(),
            metadata_arg("year:integer").unwrap(),
            partition_arg("user_id:text").unwrap(),
        ];
        let columns = Columns::resolve(&args, None, &["id", "embedding", "text"]).unwrap();
        assert_eq!(
            columns.definitions(),
            ["user_id text partition key", "year integer", "+title text"]
        );
        let specs = columns.specs();
        assert!(specs[0].nullable && !specs[1].nullable);
        let err = Columns::resolve(&[metadata_arg("year").unwrap()], None, &[]).unwrap_err();
        assert!(err.to_string().contains("year:TYPE"), "{err}");
        let err = Columns::resolve(&[aux_arg("Text").unwrap()], None, &["text"]).unwrap_err();
        assert!(err.to_string().contains("filled already"), "{err}");
        let twice = [aux_arg("a").unwrap(), metadata_arg("A:text").unwrap()];
        assert!(Columns::resolve(&twice, None, &[]).is_err());
    }
}
