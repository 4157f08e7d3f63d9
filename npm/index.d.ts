/** The extension's entry point (the library also exports sqlite-vec's `sqlite3_vec_init`). */
export declare const ENTRY_POINT: "sqlite3_vecsql_init";

/** The full path of the extension library shipped in this package. */
export declare function getLoadablePath(): string;

/** Anything with better-sqlite3's or node:sqlite's `loadExtension(path[, entryPoint])`. */
export interface LoadExtensionCapable {
  loadExtension(file: string, entryPoint?: string): unknown;
}

/**
 * Loads vecsql into a better-sqlite3 `Database`, or a node:sqlite `DatabaseSync` opened with
 * `{ allowExtension: true }` (Node 23.5+).
 */
export declare function load(db: LoadExtensionCapable): void;

type Numbers = ArrayLike<number | bigint> | Iterable<number | bigint>;

/**
 * A float32 vector blob (4 bytes per element, little-endian), as `vec_f32()` makes. Throws
 * `TypeError` for non-numbers and `RangeError` for empty vectors, NaN, infinities and values
 * beyond the float32 range.
 */
export declare function serializeFloat32(vector: Numbers): Buffer;

/**
 * An int8 vector blob (1 byte per element) for int8 columns or `vec_int8(?)`. Throws
 * `TypeError` for non-integers and `RangeError` for empty vectors and values outside -128..127.
 */
export declare function serializeInt8(vector: Numbers): Buffer;

/** Reads a float32 vector blob back into a `Float32Array`. */
export declare function deserializeFloat32(blob: ArrayBuffer | ArrayBufferView): Float32Array;
