#!/usr/bin/env node
// Runs on `npm install`: use a prebuilt binding when one loads (a build in bindings/, else the platform package
// @opt-native/binding-<platform> that npm installed from optionalDependencies), otherwise build the addon from source.
//   OPT_NATIVE_FORCE_BUILD=1      build from source even when a prebuilt binding loads
//   OPT_NATIVE_FEATURES=cuda      build from source with these cargo features (the CUDA variant)
//   OPT_NATIVE_PREBUILT_ONLY=1    never build: fail when no prebuilt binding loads (release smoke test, CI)
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bindingNames, platformArchAbi } from './native-platform.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bindingsDir = join(root, 'bindings');
const require = createRequire(join(bindingsDir, 'index.cjs'));
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const abi = platformArchAbi();
const { packageName, fileName } = bindingNames(packageJson.napi, abi);
const features = (process.env.OPT_NATIVE_FEATURES ?? '').trim();

/** Loads the generated loader; returns where the binding came from, or the load error. */
function loadPrebuilt() {
  try {
    require('./index.cjs');
  } catch (error) {
    return { error: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
  if (existsSync(join(bindingsDir, fileName))) return { source: `bindings/${fileName}` };
  try {
    const { version } = require(`${packageName}/package.json`);
    return { source: `${packageName}@${version}` };
  } catch {
    return { source: 'NAPI_RS_NATIVE_LIBRARY_PATH' };
  }
}

function fail(message) {
  console.error(`opt-native: ${message}`);
  process.exit(1);
}

function onPath(command) {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const names = process.platform === 'win32' ? [`${command}.exe`, `${command}.cmd`] : [command];
  return dirs.some((dir) => names.some((name) => existsSync(join(dir, name))));
}

function buildFromSource() {
  const localCli = join(root, 'node_modules', '.bin', 'napi');
  const [command, prefix] = existsSync(localCli) ? [localCli, []] : ['npx', ['--yes', '@napi-rs/cli@3']];
  const featureArgs = features === '' ? [] : ['--features', features];
  console.log(`opt-native: building the native addon from source (cargo, release${features ? `, ${features}` : ''})`);
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
      ...featureArgs,
    ],
    { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' },
  );
  process.exit(result.status ?? 1);
}

const wantsSourceBuild = process.env.OPT_NATIVE_FORCE_BUILD === '1' || features !== '';
if (!wantsSourceBuild) {
  const prebuilt = existsSync(join(bindingsDir, 'index.cjs'))
    ? loadPrebuilt()
    : { error: 'bindings/index.cjs is missing' };
  if (prebuilt.source) {
    console.log(`opt-native: using the prebuilt native binding ${prebuilt.source}`);
    process.exit(0);
  }
  const why = `no prebuilt native binding loaded for ${abi} (${packageName}): ${prebuilt.error}`;
  if (process.env.OPT_NATIVE_PREBUILT_ONLY === '1') fail(`${why}; OPT_NATIVE_PREBUILT_ONLY=1 forbids a source build`);
  console.log(`opt-native: ${why}`);
}
if (!onPath('cargo')) {
  fail(
    `building from source needs a Rust toolchain and cargo is not on PATH: install it from https://rustup.rs ` +
      `(rust-toolchain.toml pins the version) and run \`npm rebuild opt-native\`. Prebuilt bindings exist for ` +
      `${packageJson.napi.targets.join(', ')}.`,
  );
}
buildFromSource();
