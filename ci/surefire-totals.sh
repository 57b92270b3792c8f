#!/usr/bin/env bash
# Prints the totals of the Surefire reports of Maven modules (mvn -q hides
# Maven's own), one line per module:
#   surefire-totals.sh LABEL MODULE_DIR...
# A module without reports prints zeros.
set -uo pipefail
label=$1
shift
for module in "$@"; do
    cat "$module"/target/surefire-reports/*.txt 2>/dev/null | awk -F'[:,]' -v label="$label" -v module="$module" '
        /^Tests run/ { run += $2; failed += $4; errors += $6; skipped += $8 }
        END { printf "%s: %s: Tests run: %d, Failures: %d, Errors: %d, Skipped: %d\n",
                     label, module, run, failed, errors, skipped }'
done
