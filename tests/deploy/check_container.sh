#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deploy/container/Containerfile, checked by rules (Debian packages no
# Containerfile linter):
# - multi-stage, every stage on a pinned debian:12-slim;
# - apt-get installs without recommends and drops its lists in the same layer;
#   no ADD, no fetching with curl or wget, no sudo;
# - the build stage installs exactly scripts/deps.sh's build packages;
# - the run stage installs the package of every shared library the built
#   program and libsdconnect load (their NEEDED entries, looked up with
#   dpkg), unless Debian's slim base has it (apt's own libraries);
# - it runs as a numeric non-root user, with the state directory a volume
#   that user owns, a HEALTHCHECK on /healthz and an exec-form ENTRYPOINT;
# - every COPY source exists, and .dockerignore keeps build trees out.
#   check_container.sh SDCONNECT_BIN LIBSDCONNECT_SO SOURCE_DIR
set -euo pipefail
bin=$1 lib=$2 src=$3
file=$src/deploy/container/Containerfile
fail() { echo "check_container: $*" >&2; exit 1; }
[ -f "$file" ] || fail "no $file"

# One logical line per instruction (continuations joined), comments dropped.
joined=$(sed -e '/^[[:space:]]*#/d' "$file" | sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta')

froms=$(grep -c '^FROM ' <<<"$joined")
[ "$froms" -ge 2 ] || fail "one stage only: build in one, run in another"
bad_from=$(grep '^FROM ' <<<"$joined" | grep -v '^FROM debian:12-slim\( AS [a-z]*\)\?$' || true)
[ -z "$bad_from" ] || fail "a stage not on debian:12-slim: $bad_from"
! grep -q '^ADD ' <<<"$joined" || fail "ADD: use COPY (no remote or archive magic)"
! grep -Eq '(curl|wget) ' <<<"$joined" || fail "fetches something outside Debian's packages"
! grep -q 'sudo ' <<<"$joined" || fail "sudo in a container build"
while read -r run; do
  grep -q 'apt-get install' <<<"$run" || continue
  grep -q -- '--no-install-recommends' <<<"$run" || fail "apt-get install without --no-install-recommends: $run"
  grep -q 'apt-get update' <<<"$run" || fail "apt-get install without update in the same layer"
  grep -q 'rm -rf /var/lib/apt/lists/\*' <<<"$run" || fail "apt lists left in the layer: $run"
done < <(grep '^RUN ' <<<"$joined")

# The packages each stage installs (words after "install -y ... " up to "&&").
stage_packages() {
  awk -v want="$1" '/^FROM /{n++} n==want && /^RUN / && /apt-get install/' <<<"$joined" \
    | sed 's/.*apt-get install[^&]*--no-install-recommends//; s/&&.*//' | tr ' ' '\n' | grep -v '^$' | sort -u
}
build_pkgs=$(stage_packages 1)
run_pkgs=$(stage_packages "$froms")
deps_pkgs=$(sed -n '/^packages=(/,/^)/p' "$src/scripts/deps.sh" | sed 's/#.*//; /packages=(/d; /^)/d' \
            | tr ' ' '\n' | grep -v '^$' | sort -u)
test_only="check nghttp2-server prometheus chromium groff-base systemd python3-yaml"
for p in $deps_pkgs; do
  case " $test_only " in *" $p "*) continue ;; esac
  grep -qx "$p" <<<"$build_pkgs" || fail "build stage lacks $p (scripts/deps.sh installs it)"
done
for p in $build_pkgs; do
  grep -qx "$p" <<<"$deps_pkgs" || fail "build stage installs $p, which scripts/deps.sh does not"
done

# Every library the program and the library load, from a package the run
# stage installs or the slim base has.
needed=$(readelf -d "$bin" "$lib" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort -u)
loaded=$(ldd "$bin" "$lib")
# in debian:12-slim already (apt itself needs them)
slim_base="libc6 libgcc-s1 libstdc++6 zlib1g"
checked=0
for so in $needed; do
  case $so in libsdconnect.so.*|libasan.so.*|libubsan.so.*|liblsan.so.*|libtsan.so.*) continue ;; esac
  # "name => /path (addr)", or for the loader "/path/name (addr)"
  path=$(awk -v l="$so" '$1 == l && $3 ~ /^\// {print $3; exit}
                         $1 ~ "/" l "$" {print $1; exit}' <<<"$loaded")
  [ -n "$path" ] || fail "$so: not found on this machine"
  # dpkg knows a file by the path its package ships (/lib or /usr/lib)
  pkg=
  for q in "$path" "$(readlink -f "$path")" "*/$so"; do
    owners=$(dpkg -S "$q" 2>/dev/null || true) # whole: `| head` could SIGPIPE it
    pkg=${owners%%[:$'\n']*}
    [ -n "$pkg" ] && break
  done
  [ -n "$pkg" ] || fail "$so ($path): no Debian package owns it"
  case " $slim_base " in *" $pkg "*) ;; *)
    grep -qx "$pkg" <<<"$run_pkgs" || fail "the run stage lacks $pkg, which holds $so" ;;
  esac
  checked=$((checked + 1))
done
grep -qx ca-certificates <<<"$run_pkgs" || fail "no ca-certificates: TLS to Google's API needs them"

# The run stage.
last=$(awk -v want="$froms" '/^FROM /{n++} n==want' <<<"$joined")
user=$(grep '^USER ' <<<"$last" | tail -1 | awk '{print $2}')
[ -n "$user" ] || fail "no USER: the daemon would run as root"
uid=${user%%:*}
[[ $uid =~ ^[0-9]+$ ]] && [ "$uid" -ne 0 ] || fail "USER $user: give a numeric non-root uid (runAsNonRoot checks it)"
grep -q "install -d -o $uid .* /var/lib/sdconnect" <<<"$last" || fail "/var/lib/sdconnect is not made for uid $uid"
grep -q '^VOLUME \["/var/lib/sdconnect"\]' <<<"$last" || fail "the state directory is not a volume (read-only root)"
grep -q '^HEALTHCHECK .*CMD \[.*/healthz' <<<"$last" || fail "no exec-form HEALTHCHECK on /healthz"
grep -q '^ENTRYPOINT \["/usr/local/bin/sdconnect"\]' <<<"$last" || fail "ENTRYPOINT is not the exec form of sdconnect"
grep -q '^CMD \["serve"' <<<"$last" || fail "the default command is not serve"
grep -q '^EXPOSE .*9464' <<<"$last" || fail "the admin port 9464 is not exposed"

# Sources it copies exist; build trees stay out of the context.
while read -r _ from _; do
  [ -e "$src/$from" ] || fail "COPY $from: no such path in the source tree"
done < <(grep '^COPY [^-]' <<<"$joined")
grep -qx 'build' "$src/.dockerignore" || fail ".dockerignore does not keep build/ out of the context"
echo "check_container: 2 stages on debian:12-slim, $checked libraries covered by the run stage, user $uid"
