#!/usr/bin/env bash
# Builds the test control plane (kube-apiserver, kube-controller-manager, etcd) and Knative's ApiServerSource
# receive adapter from the published Go modules
# pinned in the go.mod files beside this script, into a cache outside the repository keyed by those pins.
# A second run finds the binaries and returns in well under a second. Prints the bin directory on stdout.
# `build.sh adapter` builds (or finds) only the receive adapter, which is all `npm start` needs against a cluster.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${QUAY_BRIDGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quay-bridge}
export GOFLAGS="${GOFLAGS:-} -mod=mod -buildvcs=false"

# Each entry: <module dir> <version ldflag source> <packages...>
k8s_version() { awk '$1=="k8s.io/kubernetes"{print $2; exit}' <(cd "$here/k8s" && go list -m k8s.io/kubernetes); }

key_of() { # a module's cache key: its pins and the Go toolchain
  (cat "$here/$1/go.mod" "$here/$1/go.sum"; go env GOVERSION GOOS GOARCH) | sha256sum | cut -c1-16
}

build_module() { # dir, output binary names..., then -- packages...
  local dir=$1; shift
  local out="$cache_root/bin/$dir-$(key_of "$dir")"
  local names=() pkgs=()
  while [ "$1" != "--" ]; do names+=("$1"); shift; done; shift
  pkgs=("$@")
  local missing=0
  for n in "${names[@]}"; do [ -x "$out/$n" ] || missing=1; done
  if [ "$missing" = 1 ]; then
    echo "building $dir (${names[*]}) into $out; the first build takes several minutes" >&2
    local tmp="$out.tmp.$$"; rm -rf "$tmp"; mkdir -p "$tmp"
    (cd "$here/$dir" && go build -trimpath -ldflags "${LDFLAGS:-} -s -w" -o "$tmp/" "${pkgs[@]}")
    rm -rf "$out"; mv "$tmp" "$out"
  fi
  for n in "${names[@]}"; do links+=("$out/$n"); done
}
links=()

if [ "${1:-}" = adapter ]; then
  LDFLAGS="" build_module knative apiserver_receive_adapter -- knative.dev/eventing/cmd/apiserver_receive_adapter
  dirname "${links[0]}"
  exit 0
fi

v=$(k8s_version); minor=${v#v1.}; minor=${minor%%.*}
LDFLAGS="-X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 \
-X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean \
-X k8s.io/client-go/pkg/version.gitVersion=$v" \
  build_module k8s kube-apiserver kube-controller-manager -- \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
LDFLAGS="" build_module etcd server -- go.etcd.io/etcd/server/v3
# The real Knative ApiServerSource receive adapter, run out of cluster by the end-to-end tests.
LDFLAGS="" build_module knative apiserver_receive_adapter -- knative.dev/eventing/cmd/apiserver_receive_adapter

# One directory per combination of pins, so that checkouts on different pins never see each other's binaries.
set_dir="$cache_root/bin/set-$(printf '%s\n' "${links[@]}" | sha256sum | cut -c1-16)"
mkdir -p "$set_dir"
for l in "${links[@]}"; do
  n=$(basename "$l"); [ "$n" = server ] && n=etcd
  ln -sfn "$l" "$set_dir/$n"
done
echo "$set_dir"
