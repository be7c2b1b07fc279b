#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The systemd units in deploy/systemd, checked with systemd's own
# systemd-analyze: `verify` (syntax, directives, the program it starts) and
# `security` (exposure score at most 2.0 of 10, printed for the record; --threshold counts tenths);
# plus what the units promise the daemon: readiness and watchdog
# (Type=notify, tested for real in integration.notify), reload by SIGHUP,
# a dynamic user with a state directory, no capabilities.
#   check_systemd.sh SDCONNECT_BIN SOURCE_DIR
set -euo pipefail
bin=$1 src=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/sdc-systemd.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "check_systemd: $*" >&2; exit 1; }
command -v systemd-analyze >/dev/null || fail "systemd-analyze not found: install systemd (bash scripts/deps.sh does)"

for unit in sdconnect.service sdconnect-sd-server.service; do
  file=$src/deploy/systemd/$unit
  # verify checks that ExecStart's program exists: point it at this build's
  sed "s|/usr/local/bin/sdconnect|$bin|g" "$file" > "$work/$unit"
  out=$(systemd-analyze verify --man=no "$work/$unit" 2>&1) || fail "$unit: verify failed: $out"
  [ -z "$out" ] || fail "$unit: verify warns: $out"
  score=$(systemd-analyze security --offline=true "$work/$unit" 2>&1 \
          | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
  [ -n "$score" ] || fail "$unit: systemd-analyze security gave no score"
  systemd-analyze security --offline=true --threshold=20 "$work/$unit" >/dev/null 2>&1 \
    || fail "$unit: exposure $score is above 2.0"
  echo "check_systemd: $unit: verify clean, exposure $score"
  for want in '^Type=notify$' '^NotifyAccess=main$' '^WatchdogSec=' '^DynamicUser=yes$' \
              '^StateDirectory=' '^NoNewPrivileges=yes$' '^ProtectSystem=strict$' \
              '^PrivateTmp=yes$' '^CapabilityBoundingSet=$' '^RestrictAddressFamilies=' \
              '^SystemCallFilter=@system-service$'; do
    grep -q "$want" "$file" || fail "$unit: no line matching $want"
  done
done
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$src/deploy/systemd/sdconnect.service" \
  || fail "sdconnect.service: reload is not SIGHUP to the main process"
# The daemon's default configuration path and state directory are the ones
# the unit gives it.
grep -q -- '--config /etc/sdconnect/sdconnect.yaml' "$src/deploy/systemd/sdconnect.service" \
  || fail "sdconnect.service does not start the daemon on /etc/sdconnect/sdconnect.yaml"
grep -q '^StateDirectory=sdconnect$' "$src/deploy/systemd/sdconnect.service" \
  || fail "sdconnect.service's StateDirectory is not /var/lib/sdconnect, stateDir's default"
