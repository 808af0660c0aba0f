#!/usr/bin/env node
// `npm run release:pack`: the napi-rs release layout as two npm tarballs in release/:
//   opt-native-<version>.tgz                      the library + CLI (dist/), the loader, the Rust sources for a
//                                                 source build, and optionalDependencies on every platform package
//   opt-native-binding-<platform>-<version>.tgz   the release addon of this host (npm/<platform>/, stripped)
// Like `napi pre-publish`, it writes the optionalDependencies (pinned to the version) into the packed package.json
// only: the repository's package.json names no unpublished package, so `npm ci` in a clone never asks the registry
// for them. Flags: --skip-build (reuse bindings/*.node and dist/ as they are).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTriple } from '@napi-rs/cli';
import { bindingNames, platformArchAbi } from './native-platform.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'release');
const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const { napi, version } = rootPackage;
/** What the main tarball must not carry: build output, tests and their fixtures, benches, binaries. */
const FORBIDDEN = [/^target\//, /(^|\/)tests?\//, /fixtures/, /^benches\//, /\.node$/, /^npm\//, /^release\//];

/** napi-rs's platformArchABI of each configured target triple (x86_64-unknown-linux-gnu → linux-x64-gnu). */
export function targetAbis(triples) {
  return triples.map((triple) => parseTriple(triple).platformArchABI);
}

/**
 * The packed package.json: the repository's with optionalDependencies on every platform package at `version`, and
 * only the `install` script (the others are development tasks that need devDependencies an install lacks).
 */
export function releaseManifest(pkg) {
  const optionalDependencies = Object.fromEntries(
    targetAbis(pkg.napi.targets).map((abi) => [bindingNames(pkg.napi, abi).packageName, pkg.version]),
  );
  return {
    ...pkg,
    scripts: { install: pkg.scripts.install },
    optionalDependencies: { ...pkg.optionalDependencies, ...optionalDependencies },
  };
}

function run(command, args, cwd = root) {
  return execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
}

/** `npm pack` of `dir` into `destination`; returns npm's report (file name, sizes, file list). */
function npmPack(dir, destination) {
  const [report] = JSON.parse(
    run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], dir),
  );
  return report;
}

function buildRelease() {
  console.log('== release addon (napi build --release) and dist/');
  execFileSync('npm', ['run', '--silent', 'build:native'], { cwd: root, stdio: 'inherit' });
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  execFileSync('npm', ['run', '--silent', 'build:ts'], { cwd: root, stdio: 'inherit' });
}

function packPlatformPackage(abi, staging) {
  const { fileName } = bindingNames(napi, abi);
  const dir = join(staging, abi);
  mkdirSync(dir, { recursive: true });
  for (const file of ['package.json', 'README.md']) copyFileSync(join(root, 'npm', abi, file), join(dir, file));
  copyFileSync(join(root, 'bindings', fileName), join(dir, fileName));
  // Debug symbols are most of the file; the profile keeps them for `cargo test` backtraces, the package does not.
  if (process.platform === 'linux') run('strip', ['--strip-unneeded', join(dir, fileName)]);
  return npmPack(dir, outDir);
}

function packMainPackage(staging) {
  const first = npmPack(root, staging);
  const forbidden = first.files.map((file) => file.path).filter((path) => FORBIDDEN.some((re) => re.test(path)));
  if (forbidden.length > 0) throw new Error(`the main tarball would carry ${forbidden.join(', ')}`);
  const unpacked = join(staging, 'main');
  mkdirSync(unpacked);
  run('tar', ['-xzf', join(staging, first.filename), '-C', unpacked]);
  const manifestPath = join(unpacked, 'package', 'package.json');
  const manifest = releaseManifest(JSON.parse(readFileSync(manifestPath, 'utf8')));
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return npmPack(join(unpacked, 'package'), outDir);
}

function describe(report) {
  const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
  const packed = statSync(join(outDir, report.filename)).size;
  return `release/${report.filename}: ${kb(packed)} packed, ${kb(report.unpackedSize)} unpacked, ${report.entryCount} files`;
}

function main() {
  const abi = platformArchAbi();
  if (!targetAbis(napi.targets).includes(abi)) throw new Error(`${abi} is not one of package.json's napi.targets`);
  if (!process.argv.includes('--skip-build')) buildRelease();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir);
  const staging = mkdtempSync(join(tmpdir(), 'opt-native-pack-'));
  try {
    const reports = [packMainPackage(staging), packPlatformPackage(abi, staging)];
    console.log(`== packed ${rootPackage.name}@${version}`);
    for (const report of reports) console.log(describe(report));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
