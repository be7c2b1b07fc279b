#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run the local Service Directory on its own with the example
# registry, resolve the example service through it, then keep serving in
# the foreground until Ctrl-C (which stops the server by its PID).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SDCONNECT:-build/release/sdconnect}
listen=${SDCONNECT_DEMO_LISTEN:-127.0.0.1:8085}
state=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$state"' EXIT
trap 'exit 0' INT TERM

"$bin" sd-server --listen "$listen" --port-file "$state/port" \
  --seed deploy/config/registry.yaml &
pid=$!
for _ in $(seq 1 100); do # up to 10 s for the port file
  [ -s "$state/port" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "demo: sd-server exited; see above" >&2; exit 1; }
  sleep 0.1
done
[ -s "$state/port" ] || { echo "demo: sd-server did not start in 10 s" >&2; exit 1; }
port=$(cat "$state/port")

echo "+ sdconnect resolve .../services/webhook --sd-endpoint 127.0.0.1:$port --insecure" >&2
"$bin" resolve projects/demo-project/locations/us-central1/namespaces/demo/services/webhook \
  --sd-endpoint "127.0.0.1:$port" --insecure
echo >&2
echo "demo: the local Service Directory keeps serving on 127.0.0.1:$port; Ctrl-C stops it" >&2
echo "demo: try: SDCONNECT_SD_ENDPOINT=127.0.0.1:$port SDCONNECT_SD_INSECURE=1 $bin namespaces list --project demo-project --location us-central1" >&2
wait "$pid"
