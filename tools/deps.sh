#!/usr/bin/env bash
# Installs the Debian packages convscope needs to build, run and test, only
# those missing (apt-get update first when something is). Needs root (or sudo).
set -euo pipefail

pkgs=(gcc meson ninja-build pkg-config ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd
      libclblast-dev libstb-dev libsdl2-dev zlib1g-dev fonts-dejavu-core dataset-fashion-mnist xvfb xauth)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
