#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regenerate the seed inputs of fuzz_sd_request (method byte + request bytes)
# from text-format requests. Needs protoc (Debian: protobuf-compiler); the
# output is committed, so builds and CI never run this.
set -euo pipefail
cd "$(dirname "$0")"
out=corpus/sd_request
P=projects/p/locations/l
N=$P/namespaces/n
S=$N/services/s
seed() { # NAME METHOD-INDEX MESSAGE TEXT
  { printf "\\x$(printf %02x "$2")"; printf '%s' "$4" |
      protoc -I../../proto -I/usr/include \
        --encode="google.cloud.servicedirectory.v1.$3" \
        google/cloud/servicedirectory/v1/registration_service.proto \
        google/cloud/servicedirectory/v1/lookup_service.proto; } > "$out/$1"
}
mkdir -p "$out"
seed resolve 0 ResolveServiceRequest "name: \"$S\" max_endpoints: 5 endpoint_filter: \"port>1\""
seed create-ns 1 CreateNamespaceRequest "parent: \"$P\" namespace_id: \"x\" namespace { labels { key: \"a\" value: \"b\" } }"
seed list-ns 2 ListNamespacesRequest "parent: \"$P\" page_size: 1 filter: \"labels.a=b\" order_by: \"name desc\""
seed get-ns 3 GetNamespaceRequest "name: \"$N\""
seed update-ns 4 UpdateNamespaceRequest "namespace { name: \"$N\" labels { key: \"k\" value: \"v\" } } update_mask { paths: \"labels\" }"
seed delete-ns 5 DeleteNamespaceRequest "name: \"$P/namespaces/x\""
seed create-svc 6 CreateServiceRequest "parent: \"$N\" service_id: \"t\" service { annotations { key: \"example.com/o\" value: \"v\" } }"
seed list-svc 7 ListServicesRequest "parent: \"$N\" page_size: 2"
seed get-svc 8 GetServiceRequest "name: \"$S\""
seed update-svc 9 UpdateServiceRequest "service { name: \"$S\" } update_mask { paths: \"annotations\" }"
seed delete-svc 10 DeleteServiceRequest "name: \"$N/services/t\""
seed create-ep 11 CreateEndpointRequest "parent: \"$S\" endpoint_id: \"f\" endpoint { address: \"10.0.0.1\" port: 443 network: \"projects/1/locations/global/networks/n\" annotations { key: \"z\" value: \"a\" } }"
seed list-ep 12 ListEndpointsRequest "parent: \"$S\" page_size: 1 order_by: \"port desc, address\""
seed get-ep 13 GetEndpointRequest "name: \"$S/endpoints/e\""
seed update-ep 14 UpdateEndpointRequest "endpoint { name: \"$S/endpoints/e\" address: \"::1\" port: 80 } update_mask { paths: \"address\" paths: \"port\" }"
seed delete-ep 15 DeleteEndpointRequest "name: \"$S/endpoints/f\""
printf '\x10\xff\xff\xff\xff\x0f' > "$out/garbage"
