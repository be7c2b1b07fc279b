#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# libsdconnect exports exactly the functions its installed headers declare
# with SDC_EXTERN, all named sdc_ and versioned SDCONNECT_0, and they are
# the ones listed in src/lib/libsdconnect.symbols (so a change to the ABI
# is a reviewed change to that list).
#   check_symbols.sh LIBSDCONNECT_SO SOURCE_DIR
set -euo pipefail
lib=$1 src=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/sdc-symbols.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "check_symbols: $*" >&2; exit 1; }

nm -D --defined-only "$lib" | awk '$2 != "A" {print $3}' | sort > "$work/exported"
grep -v '^sdc_[a-z0-9_]*@@SDCONNECT_0$' "$work/exported" > "$work/stray" || true
[ -s "$work/stray" ] && fail "exported outside sdc_* / SDCONNECT_0: $(tr '\n' ' ' < "$work/stray")"
sed 's/@.*//' "$work/exported" > "$work/names"
grep -h 'SDC_EXTERN' "$src"/include/sdconnect/*.h | grep -v '#define' \
  | grep -o '\bsdc_[a-z0-9_]*(' | tr -d '(' | sort > "$work/declared"
grep -v '^#' "$src/src/lib/libsdconnect.symbols" > "$work/listed"

diff -u "$work/declared" "$work/names" > "$work/d1" \
  || fail "headers (-) and library (+) disagree:$(printf '\n')$(cat "$work/d1")"
diff -u "$work/listed" "$work/names" > "$work/d2" \
  || fail "src/lib/libsdconnect.symbols (-) and the library (+) disagree; update the list if the change is meant:$(printf '\n')$(cat "$work/d2")"
echo "check_symbols: $(wc -l < "$work/names") functions exported, all declared and listed"
