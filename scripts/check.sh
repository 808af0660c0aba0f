#!/usr/bin/env bash
# The project's test command (README): Rust format, lint and tests, the addon's type drift, TypeScript checks, vitest.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

# @napi-rs/cli always passes `--target <host>`, which puts the addon's artifacts in target/<host>/release.
# Point every cargo command at the same explicit target so tests, clippy and the addon share one build.
CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}"
export CARGO_BUILD_TARGET

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (release profile, warnings are errors)"
cargo clippy --release --workspace --all-targets -- -D warnings

step "cargo test (release profile, shared with the addon build)"
cargo test --release --workspace

step "native addon build + index.d.cts drift"
npm run --silent build:native
git diff --exit-code -- bindings/index.d.cts bindings/index.cjs || {
  echo "bindings/index.d.cts or index.cjs changed after the build: commit the regenerated files" >&2
  exit 1
}

step "tsc --noEmit"
npx tsc --noEmit

step "eslint + prettier"
npx eslint .
npx prettier --check .

step "build dist/ for the CLI"
npm run --silent build:ts

step "vitest"
npx vitest run
