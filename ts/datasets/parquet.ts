// Parquet through parquet-wasm (arrow-rs compiled to WebAssembly) with apache-arrow tables on the JS side.
// Loaded on first use: the WebAssembly module is a few MB and most commands never touch Parquet.
import type { Table } from 'apache-arrow';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { OptNativeError } from '../errors.js';

type ParquetWasm = typeof import('parquet-wasm');

let loaded: Promise<ParquetWasm> | undefined;

function parquetWasm(): Promise<ParquetWasm> {
  loaded ??= import('parquet-wasm');
  return loaded;
}

/** Parquet bytes of `table`, Snappy-compressed (the default of pandas/pyarrow, read by every Parquet reader). */
export async function tableToParquet(table: Table): Promise<Uint8Array> {
  const wasm = await parquetWasm();
  const wasmTable = wasm.Table.fromIPCStream(tableToIPC(table, 'stream'));
  const properties = new wasm.WriterPropertiesBuilder().setCompression(wasm.Compression.SNAPPY).build();
  return wasm.writeParquet(wasmTable, properties);
}

/** Reads Parquet bytes into an apache-arrow table; `where` names the file in errors. */
export async function tableFromParquet(bytes: Uint8Array, where: string): Promise<Table> {
  const wasm = await parquetWasm();
  try {
    return tableFromIPC(wasm.readParquet(bytes).intoIPCStream());
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new OptNativeError('E_BAD_INPUT', `${where} is not a readable Parquet file: ${message}`, { cause: error });
  }
}
