#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One consistent command line: for every command `sdconnect help CMD` is
# `sdconnect CMD --help` (exit 0), each help ends with the one exit-status
# table, lists no flag twice, and every flag it lists is in sdconnect(1);
# an unknown flag is a usage error (2) everywhere; the man page's EXIT
# STATUS has the same four codes.
#   check_cli.sh SDCONNECT_BIN SOURCE_DIR
set -euo pipefail
bin=$1 src=$2
man=$src/docs/sdconnect.1
work=$(mktemp -d "${TMPDIR:-/tmp}/sdc-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "check_cli: $*" >&2; exit 1; }
table='Exit status: 0 ok, 1 runtime error, 2 usage or configuration error,'
# the flags a help text lists, one name a line
flags() { grep -oE '^  (-[a-zA-Z], )?--[a-z0-9.-]+' "$1" | sed 's/.*--//' || true; }

"$bin" help > "$work/top" || fail "sdconnect help: exit $?"
grep -q "the same for every command: 0 ok, 1 runtime error, 2 usage" "$work/top" \
  || fail "sdconnect help does not give the exit-status table"
commands=$(sed -n '/^Commands:/,/^$/p' "$work/top" | awk 'NR > 1 && NF {print $1}')
[ "$(wc -w <<<"$commands")" -ge 10 ] || fail "sdconnect help lists too few commands: $commands"
checked=0
for c in $commands; do
  helps=("$c")
  case $c in namespaces|services|endpoints) helps+=("$c create" "$c describe" "$c list" "$c update" "$c delete") ;; esac
  for h in "${helps[@]}"; do
    # shellcheck disable=SC2086 # "namespaces list" is two words
    "$bin" $h --help > "$work/a" 2>&1 || fail "sdconnect $h --help: exit $?"
    grep -q "^$table" "$work/a" || fail "sdconnect $h --help lacks the exit-status table"
    dups=$(flags "$work/a" | sort | uniq -d)
    [ -z "$dups" ] || fail "sdconnect $h --help lists twice: $dups"
    for f in $(flags "$work/a"); do
      grep -q -- "\\\\-\\\\-${f//-/\\\\-}" "$man" || fail "sdconnect $h: --$f is not in sdconnect(1)"
    done
    checked=$((checked + 1))
  done
  "$bin" help "$c" > "$work/b" 2>&1 || fail "sdconnect help $c: exit $?"
  "$bin" "$c" --help > "$work/a" 2>&1 || true
  cmp -s "$work/a" "$work/b" || fail "sdconnect help $c is not sdconnect $c --help"
  rc=0
  if [ "$c" = config ]; then
    "$bin" config check --no-such-flag >/dev/null 2>&1 || rc=$?
  else
    "$bin" "$c" --no-such-flag >/dev/null 2>&1 || rc=$?
  fi
  [ "$rc" = 2 ] || fail "sdconnect $c --no-such-flag: exit $rc, not 2"
done
rc=0; "$bin" help no-such-command >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "sdconnect help no-such-command: exit $rc, not 2"
rc=0; "$bin" no-such-command >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "sdconnect no-such-command: exit $rc, not 2"
# the man page: EXIT STATUS holds exactly 0, 1, 2 and 3
codes=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$man" | awk '/^\.TP/{getline; print $2}' | tr '\n' ' ')
[ "$codes" = "0 1 2 3 " ] || fail "sdconnect(1) EXIT STATUS lists '$codes', not 0 1 2 3"
echo "check_cli: $checked help texts: one exit table, no flag twice, every flag in sdconnect(1)"
