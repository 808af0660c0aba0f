// The napi-rs release layout (npm/<platform>/ packages, the packed manifest) checked against napi-rs's own target
// parser, and the install script run for real in a scratch package: prebuilt package found, no-Rust failure, and
// OPT_NATIVE_PREBUILT_ONLY refusing a source build.
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { parseTriple } from '@napi-rs/cli';
import { afterEach, describe, expect, it } from 'vitest';
import { bindingNames, platformArchAbi } from '../scripts/native-platform.mjs';
import { releaseManifest, targetAbis } from '../scripts/release-pack.mjs';
import { repoRoot } from './cli-harness.js';

const run = promisify(execFile);
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const rootPackage = readJson(join(repoRoot, 'package.json'));
const { napi, version } = rootPackage;

describe('npm/<platform> packages', () => {
  it('has one package per napi target, named, versioned and restricted as napi-rs spells it', () => {
    const targets = (napi.targets as string[]).map((triple) => parseTriple(triple));
    expect(readdirSync(join(repoRoot, 'npm')).sort()).toEqual(targets.map((t) => t.platformArchABI).sort());
    for (const target of targets) {
      const pkg = readJson(join(repoRoot, 'npm', target.platformArchABI, 'package.json'));
      const fileName = `opt-native.${target.platformArchABI}.node`;
      expect(pkg).toMatchObject({
        name: `@opt-native/binding-${target.platformArchABI}`,
        version,
        main: fileName,
        files: [fileName],
        os: [target.platform],
        cpu: [target.arch],
        engines: rootPackage.engines,
      });
      expect(pkg.libc).toEqual(target.abi === 'gnu' ? ['glibc'] : undefined);
    }
  });

  it('names platforms like napi-rs on every target, and the host is one of them', () => {
    expect(targetAbis(napi.targets)).toEqual(napi.targets.map((triple: string) => parseTriple(triple).platformArchABI));
    expect(platformArchAbi('linux', 'x64', 'gnu')).toBe('linux-x64-gnu');
    expect(platformArchAbi('linux', 'arm64', 'musl')).toBe('linux-arm64-musl');
    expect(platformArchAbi('darwin', 'arm64')).toBe('darwin-arm64');
    expect(platformArchAbi('win32', 'x64')).toBe('win32-x64-msvc');
    expect(targetAbis(napi.targets)).toContain(platformArchAbi());
    expect(bindingNames(napi, 'darwin-x64')).toEqual({
      packageName: '@opt-native/binding-darwin-x64',
      fileName: 'opt-native.darwin-x64.node',
    });
  });
});

describe('the packed package.json', () => {
  it('pins every platform package to the version and keeps only the install script', () => {
    const manifest = releaseManifest(rootPackage);
    expect(manifest.optionalDependencies).toEqual({
      '@opt-native/binding-linux-x64-gnu': version,
      '@opt-native/binding-linux-arm64-gnu': version,
      '@opt-native/binding-darwin-arm64': version,
      '@opt-native/binding-darwin-x64': version,
      '@opt-native/binding-win32-x64-msvc': version,
    });
    expect(manifest.scripts).toEqual({ install: 'node scripts/install-native.mjs' });
    expect(manifest.dependencies).toEqual(rootPackage.dependencies);
    // The repository's own manifest names no unpublished package, so `npm ci` in a clone never asks the registry.
    expect(rootPackage.optionalDependencies).toBeUndefined();
  });

  it('ships the install script and what it imports', () => {
    for (const file of ['scripts/install-native.mjs', 'scripts/native-platform.mjs']) {
      expect(rootPackage.files).toContain(file);
    }
  });
});

describe('the supported Node range', () => {
  it('is one floor in package.json, the README, and what .ci/run checks', () => {
    const floor = /^>=(\d+\.\d+)\.0$/.exec(rootPackage.engines.node)?.[1];
    expect(floor).toBe('20.19');
    expect(readFileSync(join(repoRoot, 'README.md'), 'utf8')).toContain(`Node ≥ ${floor} (`);
    expect(readFileSync(join(repoRoot, '.ci', 'run'), 'utf8')).toContain('require("./package.json").engines.node');
  });
});

describe('npm scripts', () => {
  it('point at files that exist', () => {
    const paths = Object.values(rootPackage.scripts as Record<string, string>).flatMap((line) =>
      line.split(/\s+/).filter((word) => /^[\w./-]+\.(ts|mjs|js|sh|json)$/.test(word)),
    );
    expect(paths).toContain('benches/metrics.bench.ts');
    for (const path of paths) expect(existsSync(join(repoRoot, path)), path).toBe(true);
  });
});

describe('scripts/install-native.mjs', () => {
  const scratch: string[] = [];
  afterEach(() => {
    for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A scratch package with the install script, a loader that `loads` or throws, and maybe a platform package. */
  function scratchPackage(options: { loads: boolean; platformPackage: boolean }): string {
    const dir = mkdtempSync(join(tmpdir(), 'opt-native-install-'));
    scratch.push(dir);
    mkdirSync(join(dir, 'scripts'));
    mkdirSync(join(dir, 'bindings'));
    for (const file of ['install-native.mjs', 'native-platform.mjs']) {
      copyFileSync(join(repoRoot, 'scripts', file), join(dir, 'scripts', file));
    }
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'opt-native', version, napi }));
    const loader = options.loads ? 'module.exports = {};' : "throw new Error('Cannot find native binding.');";
    writeFileSync(join(dir, 'bindings', 'index.cjs'), loader);
    if (options.platformPackage) {
      const { packageName } = bindingNames(napi, platformArchAbi());
      const packageDir = join(dir, 'node_modules', ...packageName.split('/'));
      mkdirSync(packageDir, { recursive: true });
      writeFileSync(join(packageDir, 'package.json'), JSON.stringify({ name: packageName, version }));
    }
    return dir;
  }

  const withoutCargo = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !existsSync(join(dir, 'cargo')))
    .join(delimiter);

  async function install(dir: string, env: Record<string, string> = {}) {
    try {
      const { stdout, stderr } = await run(process.execPath, [join(dir, 'scripts', 'install-native.mjs')], {
        env: { PATH: withoutCargo, ...env },
      });
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, output: failed.stdout + failed.stderr };
    }
  }

  it('uses the installed platform package and builds nothing', async () => {
    const result = await install(scratchPackage({ loads: true, platformPackage: true }));
    const { packageName } = bindingNames(napi, platformArchAbi());
    expect(result).toEqual({
      code: 0,
      output: `opt-native: using the prebuilt native binding ${packageName}@${version}\n`,
    });
  });

  it('fails with what to install when no binding loads and cargo is not on PATH', async () => {
    const result = await install(scratchPackage({ loads: false, platformPackage: false }));
    expect(result.code).toBe(1);
    expect(result.output).toContain(`no prebuilt native binding loaded for ${platformArchAbi()}`);
    expect(result.output).toContain('Cannot find native binding.');
    expect(result.output).toContain('cargo is not on PATH: install it from https://rustup.rs');
  });

  it('refuses a source build under OPT_NATIVE_PREBUILT_ONLY=1 even with cargo on PATH', async () => {
    const dir = scratchPackage({ loads: false, platformPackage: false });
    const result = await install(dir, { PATH: process.env.PATH ?? '', OPT_NATIVE_PREBUILT_ONLY: '1' });
    expect(result.code).toBe(1);
    expect(result.output).toContain('OPT_NATIVE_PREBUILT_ONLY=1 forbids a source build');
    expect(existsSync(join(dir, 'target'))).toBe(false);
  });
});
