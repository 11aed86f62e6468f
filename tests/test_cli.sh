#!/usr/bin/env bash
# CLI tests: the `convscope` command's contract (exit codes, help, devices,
# clear errors when there is no OpenCL platform). Usage: test_cli.sh CONVSCOPE
set -u
bin=$1
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # description, then a command that must succeed
    local what=$1; shift
    if "$@" >"$tmp/out" 2>"$tmp/err"; then
        pass=$((pass + 1)); echo "PASS $what"
    else
        fail=$((fail + 1)); echo "FAIL $what"; sed 's/^/  out: /' "$tmp/out" | head -20; sed 's/^/  err: /' "$tmp/err" | head -20
    fi
}
expect_status() { # want, then the command; output kept in $tmp/out, $tmp/err
    local want=$1; shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    [ "$got" -eq "$want" ] || { echo "  exit status $got, wanted $want"; return 1; }
}
has() { grep -q -- "$1" "$2" || { echo "  '$1' not in $2:"; head -20 "$2"; return 1; }; }

t_help()       { expect_status 0 "$bin" --help && has "devices" "$tmp/out"; }
t_no_args()    { expect_status 2 "$bin" && has "usage" "$tmp/err"; }
t_unknown()    { expect_status 2 "$bin" frobnicate && has "unknown command" "$tmp/err"; }
t_dev_help()   { expect_status 0 "$bin" devices --help && has "--device" "$tmp/out"; }
t_dev_badopt() { expect_status 2 "$bin" devices --bogus && has "unknown option" "$tmp/err"; }
t_devices()    { expect_status 0 "$bin" devices && has "^  0 " "$tmp/out" && has "cpu  CPU reference" "$tmp/out"; }
t_dev_json()   { expect_status 0 "$bin" devices --json && has '"index": 0' "$tmp/out"; }
t_no_platform() {
    mkdir -p "$tmp/novendors"
    OCL_ICD_VENDORS="$tmp/novendors" expect_status 1 "$bin" devices &&
        has "pocl-opencl-icd" "$tmp/err"
}

check "--help lists commands" t_help
check "no arguments: usage, exit 2" t_no_args
check "unknown command: exit 2" t_unknown
check "devices --help" t_dev_help
check "devices rejects unknown options" t_dev_badopt
check "devices lists device 0 and the reference backend" t_devices
check "devices --json" t_dev_json
check "no OpenCL platform: clear error and install hint" t_no_platform

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
