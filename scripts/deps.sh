#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install the Debian 12 packages sdconnect needs to build and test, only
# those that are missing. Safe to run again; needs root to install.
set -euo pipefail

packages=(
  gcc libc6-dev make cmake pkg-config
  libgrpc-dev protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev
  libssl-dev libsqlite3-dev libyaml-dev libjansson-dev libcurl4-openssl-dev
  libhttp-parser-dev libpcre2-dev libmicrohttpd-dev libgnutls28-dev check nghttp2-server
  prometheus # promtool checks the metrics text; tests start their own server
  chromium   # the status page is tested in headless Chromium
  groff-base # manual pages are checked with groff
  systemd    # systemd-analyze checks the units in deploy/systemd
  python3-yaml # the Kubernetes manifests are parsed and cross-checked
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  if [ "$status" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]}" >&2
  echo "hint: run as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The prometheus package starts and enables its own server; sdconnect's
# tests only want its binaries. Undo that when this script installed it.
if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
  systemctl disable --now prometheus >/dev/null 2>&1 || true
  echo "deps.sh: stopped and disabled the prometheus service the package started" >&2
fi
