#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The install, as a user of the library meets it: `cmake --install` into a
# staging prefix, then the examples built against it twice (pkg-config with
# the C compiler; CMake's find_package) and run against the installed
# `sdconnect serve --dev` on loopback. Also checks that the installed tree
# holds what the issue lists and that the library needs nothing that is not
# installed.
#   check_install.sh BUILD_DIR SOURCE_DIR [SANITIZE]
set -euo pipefail
build=$1 src=$2 sanitize=${3:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/sdc-install.XXXXXX")
daemon_pid=
cleanup() {
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "check_install: $*" >&2; exit 1; }

stage=$work/stage
cmake --install "$build" --prefix "$stage" >/dev/null
# (no `| head` or `| grep -q` under pipefail: a reader that stops early
# kills the writer with SIGPIPE and fails the pipeline, now and then)
libs=$(cd "$stage" && find . -name 'libsdconnect.so')
[ -n "$libs" ] || fail "libsdconnect.so was not installed"
libdir=$(dirname "${libs%%$'\n'*}")
libdir=${libdir#./}

# What an operator and a C programmer look for, where they look for it.
for f in bin/sdconnect include/sdconnect/sdconnect.h include/sdconnect/version.h \
         "$libdir/pkgconfig/sdconnect.pc" "$libdir/cmake/sdconnect/sdconnectConfig.cmake" \
         "$libdir/cmake/sdconnect/sdconnectConfigVersion.cmake" \
         share/man/man1/sdconnect.1 share/man/man5/sdconnect.yaml.5 \
         share/man/man5/sdconnect-registry.yaml.5 share/doc/sdconnect/examples/sdconnect.yaml \
         share/doc/sdconnect/examples/registry.yaml; do
  [ -e "$stage/$f" ] || fail "not installed: $f"
done
# Only public headers: none includes a header that is not installed.
for h in "$stage"/include/sdconnect/*.h; do
  { grep -ho '#include <[^>]*>' "$h" || true; } | sed 's/#include <\(.*\)>/\1/' | while read -r inc; do
    case $inc in
      sdconnect/*) [ -e "$stage/include/$inc" ] || fail "$(basename "$h") includes $inc, not installed" ;;
      stdarg.h|stddef.h|stdint.h) ;;
      *) fail "$(basename "$h") includes <$inc>: public headers use only C's own" ;;
    esac
  done
done
# Every manual page is well-formed roff (groff's own warnings are errors).
for m in "$stage"/share/man/man*/*; do
  out=$(groff -man -ww -z "$m" 2>&1) || fail "$m: groff failed: $out"
  [ -z "$out" ] || fail "$m: $out"
done

# The installed library and program load with only what the system has.
for bin in "$stage/bin/sdconnect" "$stage/$libdir/libsdconnect.so"; do
  deps=$(ldd "$bin")
  if grep -q 'not found' <<<"$deps"; then echo "$deps" >&2; fail "$bin needs a library that is not installed"; fi
done

flags=(-std=c11 -Wall -Wextra -Wpedantic -Werror)
[ -n "$sanitize" ] && flags+=(-fsanitize="$sanitize" -fno-omit-frame-pointer)
export PKG_CONFIG_PATH=$stage/$libdir/pkgconfig
[ "$(pkg-config --modversion sdconnect)" = "$(sed -n 's/^project(sdconnect VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")" ] \
  || fail "sdconnect.pc's version is not the project's"
mkdir -p "$work/pc"
for ex in resolve_service run_check call_webhook; do
  # shellcheck disable=SC2046 # pkg-config's words are meant to split
  cc "${flags[@]}" -o "$work/pc/$ex" "$src/examples/$ex.c" $(pkg-config --cflags --libs sdconnect) \
     -Wl,-rpath,"$stage/$libdir" || fail "$ex did not build with pkg-config"
done
deps=$(ldd "$work/pc/run_check")
grep -q "libsdconnect.so.0 => $stage/" <<<"$deps" \
  || fail "run_check does not load the staged libsdconnect"
cmake -S "$src/examples" -B "$work/cm" -DCMAKE_PREFIX_PATH="$stage" \
      -DCMAKE_C_FLAGS="${sanitize:+-fsanitize=$sanitize}" >/dev/null || fail "find_package(sdconnect) failed"
cmake --build "$work/cm" >/dev/null || fail "the examples did not build with find_package"

# Run them against the installed daemon's --dev world.
"$stage/bin/sdconnect" serve --dev --state-dir "$work/dev" --admin-listen 127.0.0.1:0 \
  > "$work/dev.log" 2>&1 &
daemon_pid=$!
dir=
for _ in $(seq 1 150); do   # 30 s at most
  dir=$(sed -n 's/^  directory      \([0-9.:]*\) .*/\1/p' "$work/dev.log")
  [ -n "$dir" ] && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/dev.log" >&2; fail "serve --dev exited"; }
  sleep 0.2
done
[ -n "$dir" ] || { cat "$work/dev.log" >&2; fail "serve --dev did not start in 30 s"; }
svc=projects/demo-project/locations/us-central1/namespaces/demo/services/webhook

for bin in "$work/pc" "$work/cm"; do
  out=$("$bin/resolve_service" --local "$dir" "$svc") || fail "resolve_service: $out"
  grep -q "2 endpoint(s)" <<<"$out" && grep -q "/endpoints/healthy  127.0.0.1:" <<<"$out" \
    || fail "resolve_service printed: $out"
done
rc=0; "$work/pc/resolve_service" --local "$dir" projects/x 2>"$work/err" || rc=$?
[ "$rc" = 2 ] && grep -q "is not a service name" "$work/err" || fail "a bad name: exit $rc, $(cat "$work/err")"

cat > "$work/check.yaml" <<YAML
displayName: demo-webhook
checkerType: VPC_CHECKERS
monitoredResource:
  type: servicedirectory_service
  labels: {project_id: demo-project, location: us-central1, namespace_name: demo, service_name: webhook}
httpCheck: {useSsl: true, validateSsl: true, path: /healthz}
timeout: 5s
sdconnect: {host: webhook.demo.internal, caFile: $work/dev/ca.pem}
YAML
rc=0; out=$("$work/pc/run_check" --local "$dir" "$work/check.yaml") || rc=$?
[ "$rc" = 3 ] || fail "run_check: exit $rc (want 3: the demo's failing endpoint), $out"
grep -q "/endpoints/healthy  passed" <<<"$out" && grep -q "/endpoints/failing  http_status  (HTTP 503" <<<"$out" \
  || fail "run_check printed: $out"

out=$("$work/cm/call_webhook" --local "$dir" "$work/dev/webhooks.yaml" demo "hi") || fail "call_webhook: $out"
grep -q "Hello from sdconnect's demo webhook" <<<"$out" || fail "call_webhook printed: $out"
rc=0; "$work/pc/call_webhook" "$work/dev/webhooks.yaml" nope 2>"$work/err" || rc=$?
[ "$rc" = 2 ] && grep -q "no webhook 'nope'" "$work/err" || fail "an unknown id: exit $rc, $(cat "$work/err")"
echo "check_install: staged install complete; examples built with pkg-config and find_package and ran"
