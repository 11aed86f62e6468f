#!/usr/bin/env bash
# Installs what is missing, builds convscope twice (release, and debug with
# AddressSanitizer + UBSan), runs every test in both, and ends with the line
# "N passed, N failed" over all test programs of both builds.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh || exit 1

passed=0
failed=0
run_suite() { # dir, extra meson options...
    local dir=$1; shift
    if [ ! -d "$dir" ]; then
        meson setup "$dir" "$@" >/dev/null || { echo "meson setup $dir failed"; return 1; }
    fi
    ninja -C "$dir" || { echo "build in $dir failed"; failed=$((failed + 1)); return 1; }
    meson test -C "$dir" --print-errorlogs "${MESON_TEST_ARGS[@]}"
    local log="$dir/meson-logs/testlog.json"
    local ok=0 bad=0
    if [ -f "$log" ]; then
        ok=$(grep -c '"result": "OK"' "$log" || true)
        bad=$(grep -vc '"result": "OK"' "$log" || true)
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
}

MESON_TEST_ARGS=()
run_suite build
# ASan + UBSan: PoCL and the ICD loader leak by design at exit, so leak
# checking is left to the valgrind runs of later work; every other finding aborts.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
