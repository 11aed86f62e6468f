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
        meson setup "$dir" "$@" >/dev/null || { echo "meson setup $dir failed"; failed=$((failed + 1)); return 1; }
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

MESON_TEST_ARGS=(--no-suite models-families)
run_suite build
# ASan + UBSan + LeakSanitizer; PoCL, LLVM and the ICD loader keep
# allocations until exit by design: tests/lsan.supp names them.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
MESON_TEST_ARGS=(--no-suite models-all)
run_suite build-asan -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
