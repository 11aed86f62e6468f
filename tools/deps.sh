#!/usr/bin/env bash
# Installs the Debian packages convscope needs to build, run and test, only
# those missing (apt-get update first when something is). Needs root (or sudo).
#
#   tools/deps.sh        build, run and test (tools/test.sh)
#   tools/deps.sh fuzz   also clang and its libFuzzer runtime for tests/fuzz/
#                        (Debian 12 names; .ci/run asks for them)
set -euo pipefail

pkgs=(gcc meson ninja-build pkg-config ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd
      libclblast-dev libstb-dev libsdl2-dev zlib1g-dev fonts-dejavu-core dataset-fashion-mnist xvfb xauth)
for extra in "$@"; do
    case "$extra" in
    fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
    *)
        echo "deps.sh: unknown extra '$extra' (known: fuzz)" >&2
        exit 2
        ;;
    esac
done
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
