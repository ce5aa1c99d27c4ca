#!/usr/bin/env bash
# Installs the Debian packages neurodag needs to build, test and benchmark. Idempotent and quiet
# when everything is already there. Usage: deploy/setup.sh [--test]   (--test adds the oracles)
set -euo pipefail

pkgs=(meson ninja-build pkg-config gcc libuv1-dev libnng-dev libmsgpack-dev libfftw3-dev
      libsqlite3-dev libjansson-dev libedf-dev liblapacke-dev libopenblas-dev libhdf5-dev
      libssl-dev libmbedtls-dev libmatio-dev zlib1g-dev libcairo2-dev)
if [ "${1:-}" = "--test" ]; then
  pkgs+=(libcriterion-dev clang libclang-rt-14-dev python3-numpy python3-scipy python3-mne
         python3-h5py python3-distributed python3-msgpack python3-pip python3-venv
         python3-setuptools curl chromium universal-ctags
         slurmctld slurmd slurm-client munge openssl prometheus)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
