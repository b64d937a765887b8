#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine, then runs every test.
# The tests use the real etcd, Prometheus and VictoriaMetrics servers, openssl for
# certificates and kubernetes-validate for the manifests; a missing tool fails its test.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

packages=(protobuf-compiler libprotobuf-dev etcd-server etcd-client prometheus victoria-metrics openssl python3-pip)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_if_needed apt-get update -qq
  # Debian's packages would start their own daemons where an init system runs; the tests
  # start private instances on free loopback ports instead.
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! command -v kubernetes-validate >/dev/null 2>&1; then
  python3 -m pip install --quiet kubernetes-validate || python3 -m pip install --quiet --break-system-packages kubernetes-validate
fi

# kubectl (with its built-in kustomize) renders the shipped kustomizations; Debian 12 has no
# package for it, so it must come with the machine.
for tool in protoc etcd etcdctl prometheus promtool victoria-metrics openssl kubernetes-validate kubectl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "required tool not found after install: $tool" >&2; exit 1; }
done

# One build of every test target (debug), then all tests; test binaries run one after
# another, the tests inside each in parallel (they pick free ports).
cargo test --locked --workspace --all-targets --no-run
cargo test --locked --workspace --all-targets
