#!/usr/bin/env bash
# Release smoke test (`npm run release:smoke`, a .ci/run step): packs the two tarballs (`npm run release:pack`),
# installs them into a fresh folder as a user would, with no Rust toolchain on PATH and source builds forbidden, then
# runs the CLI (`--help`, `metrics` on a small CSV, `generate` on the tiny test model) and imports the library from
# an ESM script. Prints the install time.
#   RELEASE_SMOKE_SKIP_PACK=1   reuse release/*.tgz as they are
#   RELEASE_SMOKE_SKIP_BUILD=1  pack bindings/*.node and dist/ as they are (.ci/run: `npm test` just built both)
#   RELEASE_SMOKE_KEEP=1        keep the install folder (its path is printed)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
tiny_model="$repo/crates/inference/tests/fixtures/tiny-qwen2"

fail() {
  echo "release smoke: $*" >&2
  exit 1
}

pack_args=()
[ "${RELEASE_SMOKE_SKIP_BUILD:-0}" = 1 ] && pack_args=(--skip-build)
[ "${RELEASE_SMOKE_SKIP_PACK:-0}" = 1 ] || node scripts/release-pack.mjs "${pack_args[@]}"
version="$(node -p "require('./package.json').version")"
main_tgz="release/opt-native-$version.tgz"
binding_tgz="$(ls release/opt-native-binding-*-"$version".tgz)"
[ -f "$main_tgz" ] && [ -f "$binding_tgz" ] || fail "release/ lacks the tarballs of $version"

work="$(mktemp -d "${TMPDIR:-/tmp}/opt-native-smoke-XXXXXX")"
if [ "${RELEASE_SMOKE_KEEP:-0}" = 1 ]; then echo "install folder: $work"; else trap 'rm -rf "$work"' EXIT; fi
cp "$main_tgz" "$binding_tgz" "$work/"

# better-sqlite3 (the run cache) downloads its prebuilt binary from GitHub at install time; where GitHub is out of
# reach (this CI) it would compile from C++ for minutes instead. Hand prebuild-install this clone's build of the same
# version, in the file name it would download, so the timing is what a user with network access sees.
sqlite_dir="$repo/node_modules/better-sqlite3"
local_prebuilds=()
if [ -f "$sqlite_dir/build/Release/better_sqlite3.node" ]; then
  sqlite_version="$(node -p "require('$sqlite_dir/package.json').version")"
  prebuilds="$work/prebuilds"
  mkdir -p "$prebuilds"
  tar -czf "$prebuilds/better-sqlite3-v$sqlite_version-node-v$(node -p process.versions.modules)-$(node -p process.platform)-$(node -p process.arch).tar.gz" \
    -C "$sqlite_dir" build/Release/better_sqlite3.node
  local_prebuilds=("npm_config_better_sqlite3_local_prebuilds=$prebuilds")
fi

# No Rust: drop every PATH entry that holds cargo, rustc or rustup, and forbid the install script's source build.
PATH="$(printf '%s' "$PATH" | tr ':' '\n' | while read -r dir; do
  [ -e "$dir/cargo" ] || [ -e "$dir/rustc" ] || [ -e "$dir/rustup" ] || printf '%s\n' "$dir"
done | paste -sd: -)"
export PATH OPT_NATIVE_PREBUILT_ONLY=1
unset CARGO_HOME RUSTUP_HOME RUSTUP_TOOLCHAIN CARGO_TARGET_DIR CARGO_BUILD_TARGET
! command -v cargo >/dev/null && ! command -v rustc >/dev/null || fail "a Rust toolchain is still on PATH"

cd "$work"
printf '{ "name": "opt-native-smoke", "private": true, "type": "module" }\n' >package.json
start="$(date +%s%N)"
env "${local_prebuilds[@]}" npm install --no-audit --no-fund --foreground-scripts ./opt-native-*.tgz ./opt-native-binding-*.tgz >install.log 2>&1 ||
  { cat install.log >&2; fail "npm install failed"; }
install_ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "opt-native: using the prebuilt native binding @opt-native/binding-" install.log ||
  { cat install.log >&2; fail "the install script did not report the platform package"; }
if ls node_modules/opt-native/bindings/*.node >/dev/null 2>&1; then fail "a binding was built into node_modules/opt-native"; fi
echo "release smoke: npm install of both tarballs took $(( install_ms / 1000 )).$(( install_ms % 1000 / 100 )) s"

npx --no-install opt-native --help >help.txt
grep -q "Usage: opt-native" help.txt && grep -q "generate" help.txt || fail "--help: $(cat help.txt)"

printf 'label,pred\nA,A\nA,A\nA,B\nB,B\n' >predictions.csv
npx --no-install opt-native metrics --input predictions.csv --label-col label --pred-col pred --json >metrics.json
# accuracy 3/4; balanced accuracy = mean(recall A 2/3, recall B 1) = 5/6
node -e '
const r = JSON.parse(require("fs").readFileSync("metrics.json", "utf8"));
if (r.n !== 4 || Math.abs(r.accuracy - 3 / 4) > 1e-12 || Math.abs(r.balanced_accuracy - 5 / 6) > 1e-12)
  throw new Error(`metrics: ${JSON.stringify(r)}`);' || fail "metrics gave other numbers"

npx --no-install opt-native generate --model "$tiny_model" --prompt Hello --max-tokens 8 --json >generate.json
node -e '
const r = JSON.parse(require("fs").readFileSync("generate.json", "utf8"));
if (!(r.usage.completionTokens > 0 && r.usage.completionTokens <= 8) || !r.modelId.startsWith("native:"))
  throw new Error(`generate: ${JSON.stringify(r)}`);' || fail "generate failed"

cat >library.mjs <<'EOF'
// The library from an ESM script: native metrics, a native model through the model registry, the SQLite cache.
import assert from 'node:assert/strict';
import { createLanguageModel, metricsFromColumns, ResponseCache } from 'opt-native';

const report = await metricsFromColumns(
  { label: ['A', 'A', 'A', 'B'], pred: ['A', 'A', 'B', 'B'] },
  { labelCol: 'label', predCol: 'pred' },
);
assert.equal(report.accuracy, 0.75);
assert.ok(Math.abs(report.balanced_accuracy - 5 / 6) < 1e-12);

const model = await createLanguageModel(`native:${process.argv[2]}`);
const request = { messages: [{ role: 'user', content: 'Hello' }], maxTokens: 4, temperature: 0 };
const result = await model.generate(request);
assert.ok(result.usage.completionTokens > 0 && result.usage.completionTokens <= 4);
await model.dispose?.();

const cache = new ResponseCache('cache.sqlite');
cache.put('native', result.modelId, request, result);
assert.equal(cache.get('native', result.modelId, request)?.text, result.text);
cache.close();
console.log('library: metrics, native generate and the SQLite cache work from ESM');
EOF
node library.mjs "$tiny_model"
echo "release smoke: ok ($(basename "$main_tgz") $(( $(stat -c %s "$repo/$main_tgz") / 1024 )) KiB, $(basename "$binding_tgz") $(( $(stat -c %s "$repo/$binding_tgz") / 1024 )) KiB)"
