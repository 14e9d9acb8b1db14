#!/usr/bin/env bash
# Installs the external tools the `labels` tests use to read labels the way a real
# scanner would: `zbarimg` (QR, from zbar-tools), `dmtxread` (DataMatrix, from
# dmtx-utils) and `pdftoppm` (poppler-utils, to "print" PDF labels to pixels).
# Idempotent: installs only what is missing and says nothing when all is there.
set -euo pipefail

# command -> Debian package that provides it
declare -A wanted=(
    [zbarimg]=zbar-tools
    [dmtxread]=dmtx-utils
    [pdftoppm]=poppler-utils
)

missing=()
for tool in "${!wanted[@]}"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        missing+=("${wanted[$tool]}")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi

echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    $sudo apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-test-deps: done"
