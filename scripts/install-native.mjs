#!/usr/bin/env node
// Runs on `npm install`: use a prebuilt binding when one loads, otherwise build the addon from source.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function prebuiltLoads() {
  if (!existsSync(join(root, 'bindings', 'index.cjs'))) return false;
  try {
    require(join(root, 'bindings', 'index.cjs'));
    return true;
  } catch {
    return false;
  }
}

if (process.env.OPT_NATIVE_FORCE_BUILD !== '1' && prebuiltLoads()) {
  console.log('opt-native: using the prebuilt native binding');
  process.exit(0);
}

const localCli = join(root, 'node_modules', '.bin', 'napi');
const [command, prefix] = existsSync(localCli) ? [localCli, []] : ['npx', ['--yes', '@napi-rs/cli@3']];
console.log('opt-native: building the native addon from source (cargo, release)');
const result = spawnSync(
  command,
  [
    ...prefix,
    'build',
    '--platform',
    '--release',
    '--manifest-path',
    'bindings/Cargo.toml',
    '--output-dir',
    'bindings',
    '--js',
    'index.cjs',
    '--dts',
    'index.d.cts',
    '--no-const-enum',
    '--package-json-path',
    'package.json',
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
