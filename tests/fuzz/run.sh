#!/bin/sh
# Builds the libFuzzer harnesses (build.sh) and fuzzes each one in turn for
# SECONDS (default 30), printing per harness the executions, coverage (cov,
# ft) and corpus size from libFuzzer's final stats. Exits 1 when any harness
# crashes (ASan, UBSan, leak, timeout, out-of-memory or a broken invariant),
# or when a reproducer kept in crashes-found/ still crashes. The last line is
# "fuzz: N passed, N failed" over the harnesses (a harness passes when its
# reproducers pass and fuzzing finds nothing).
#
#   tests/fuzz/run.sh [SECONDS] [HARNESS...]
#   harnesses: json safetensors npy image cli idx tour (default: all)
#
# Environment: FUZZ_OUT (build and work dir, default tests/fuzz/out),
# FUZZ_NO_BUILD=1 (reuse the binaries), FUZZ_NICE (default 10), FUZZ_FLAGS
# (more libFuzzer flags), CC and STB as for build.sh.
#
# Each harness runs as one libFuzzer job in one worker process (-jobs=1
# -workers=1): one core. The corpus grows in $FUZZ_OUT/corpus/<harness>, on top
# of the committed seeds in corpus/<harness>/ and the reproducers in
# crashes-found/<harness>-*; a new crash is written to
# $FUZZ_OUT/artifacts/<harness>/ (copy it to crashes-found/<harness>-<n>).
set -u

here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-30}
[ $# -gt 0 ] && shift
all="json safetensors npy image cli idx tour"
harnesses=${*:-$all}
out=${FUZZ_OUT:-$here/out}
nice_level=${FUZZ_NICE:-10}

case "$secs" in
'' | *[!0-9]*)
    echo "run.sh: SECONDS must be a whole number, not '$secs'" >&2
    exit 2
    ;;
esac

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
    "$here/build.sh" "$out" || exit 1
fi

# Sanitizer behaviour for every run (the user's own options win when set).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_stack_use_after_return=1:strict_string_checks=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

flags_for() {
    case "$1" in
    json) echo "-dict=$here/json.dict -max_len=16384" ;;
    safetensors) echo "-dict=$here/json.dict -max_len=16384" ;;
    npy) echo "-dict=$here/npy.dict -max_len=8192" ;;
    image) echo "-dict=$here/image.dict -max_len=65536 -malloc_limit_mb=1024" ;;
    cli) echo "-dict=$here/cli.dict -max_len=1024 -close_fd_mask=3" ;; # the CLI prints usage errors
    # IDX: 8 KiB of gzip inflates to at most ~8 MiB; a header alone may make
    # the reader reserve its first 64 MiB block; anything over 256 MiB is a bug
    idx) echo "-dict=$here/idx.dict -max_len=8192 -malloc_limit_mb=256" ;;
    tour) echo "-dict=$here/tour.dict -max_len=8192" ;; # lines up to 2047 bytes, and longer ones
    *) return 1 ;;
    esac
}

failed=0
npass=0
nfail=0
summary=""
for h in $harnesses; do
    bin="$out/fuzz_$h"
    if ! flags=$(flags_for "$h") || [ ! -x "$bin" ]; then
        echo "run.sh: no harness '$h' (have: $all)" >&2
        exit 2
    fi
    logs="$out/logs/$h"
    rm -rf "$logs" "$out/regress/$h"
    mkdir -p "$out/corpus/$h" "$out/artifacts/$h" "$logs" "$out/regress/$h"

    # Reproducers of fixed bugs are regression tests, then seeds.
    status="ok"
    regress=""
    for f in "$here/crashes-found/$h"-*; do
        [ -f "$f" ] || continue
        # shellcheck disable=SC2086
        if ! "$bin" -runs=1 $flags "$f" >"$logs/regress.log" 2>&1; then
            echo "run.sh: $h: crashes-found/$(basename "$f") still crashes:" >&2
            grep -E "ERROR|runtime error|invariant failed|SUMMARY|^    #[0-9]" "$logs/regress.log" | head -20 >&2
            status="REGRESSION"
            failed=1
            continue
        fi
        cp "$f" "$out/regress/$h/"
        regress="$out/regress/$h"
    done

    echo "== fuzz_$h: ${secs}s"
    # shellcheck disable=SC2086
    (cd "$logs" && nice -n "$nice_level" "$bin" -max_total_time="$secs" -jobs=1 -workers=1 \
        -print_final_stats=1 -timeout=25 -rss_limit_mb=2048 -artifact_prefix="$out/artifacts/$h/" \
        $flags ${FUZZ_FLAGS:-} "$out/corpus/$h" "$here/corpus/$h" $regress >"$logs/run.log" 2>&1)
    rc=$?
    log="$logs/fuzz-0.log"
    [ -f "$log" ] || log="$logs/run.log"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
    cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
    crashed=0
    if [ "$rc" -ne 0 ] || grep -qE "^==[0-9]+==ERROR|runtime error:|deadly signal|ERROR: libFuzzer" "$log"; then
        crashed=1
    fi
    if [ "$crashed" = 1 ]; then
        status="CRASH"
        failed=1
        echo "run.sh: fuzz_$h crashed (exit $rc); log: $log" >&2
        grep -E "ERROR|runtime error|invariant failed|SUMMARY|Test unit written|^    #[0-9]" "$log" | head -40 >&2
        echo "hint: reproduce with $bin FILE; keep FILE as tests/fuzz/crashes-found/$h-<n>" >&2
    fi
    if [ "$status" = ok ]; then npass=$((npass + 1)); else nfail=$((nfail + 1)); fi
    line=$(printf '%-12s %6ss %10s execs %8s/s  cov %5s  ft %6s  corpus %-12s %s' "$h" "$secs" \
        "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$status")
    echo "$line"
    summary="$summary$line
"
done
echo
echo "== summary (${secs}s per harness)"
printf '%s' "$summary"
# one line per run over the harnesses, read by .ci/run
echo "fuzz: $npass passed, $nfail failed"
exit $failed
