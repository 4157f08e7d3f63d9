//! Byte layouts of vectors stored in SQLite blobs. Each submodule is one persisted format:
//! [`sqlite_vec`] is sqlite-vec's headerless layout (float32, int8, packed bits), [`libsql`] is
//! libSQL's layout with its trailing type byte. Formats are little-endian on every host.

pub mod libsql;
pub mod sqlite_vec;
