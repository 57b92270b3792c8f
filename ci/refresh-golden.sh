#!/usr/bin/env bash
# Refreshes tests/data/golden from the shared reference vectors
# (../shared/golden next to this checkout, or the folder given as $1).
# Run it when the shared golden cases change, then commit tests/data/golden.
set -euo pipefail
cd "$(dirname "$0")/.."

src="${1:-../shared/golden}"
dst=tests/data/golden
if [ ! -d "$src" ]; then
  echo "refresh-golden: no golden cases at $src; nothing to refresh" >&2
  exit 0
fi
mkdir -p "$dst"
# Replace the cases, keep README.md (it documents this folder).
find "$dst" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
for case_dir in "$src"/*/; do
  [ -f "$case_dir/case.json" ] && cp -r "${case_dir%/}" "$dst/"
done
echo "refresh-golden: copied $(find "$dst" -name case.json | wc -l) cases from $src into $dst"
