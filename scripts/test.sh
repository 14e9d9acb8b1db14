#!/usr/bin/env bash
# The whole test suite, as the README gives it and as CI runs it: installs what the tests
# need from Debian's packages (idempotent; quiet when all is there), then runs every test
# of the workspace. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
# The end-to-end tests run the real `pedigree` binary: build it first.
cargo build -p pedigree --bin pedigree
cargo test --workspace "$@"
