#!/usr/bin/env bash
# Maintainers: replaces the cases in tests/data/golden with those of a folder
# of golden-format cases (docs/golden-format.md): the folder given as $1, by
# default the project's master copy kept next to the checkout
# (../shared/golden). Without that folder it changes nothing and exits 0 (a
# clone has none). Run it when the master cases change, then commit
# tests/data/golden (its README.md is kept).
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
