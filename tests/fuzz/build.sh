#!/bin/sh
# Builds the libFuzzer harnesses (tests/fuzz/fuzz_*.c) with clang,
# -fsanitize=fuzzer,address,undefined, against the library's non-OpenCL
# sources compiled with the same sanitizers (no OpenCL, no session).
#
#   tests/fuzz/build.sh [OUT_DIR]         default: tests/fuzz/out
#   CC=clang-15 tests/fuzz/build.sh       another clang
#   STB=instrumented tests/fuzz/build.sh  compile stb_image.h into the image
#                                         harness (sanitized, with coverage)
#                                         instead of Debian's prebuilt libstb
#
# Needs clang with the libFuzzer runtime (Debian: apt-get install clang
# libclang-rt-14-dev), libstb-dev, zlib1g-dev (IDX) and libsdl2-dev (the tour
# harness compiles viewer/tour.c, whose headers include SDL.h; it links no
# SDL). Binaries land in OUT_DIR/fuzz_<name>.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$here/out}
cc=${CC:-clang}
stb=${STB:-system}
mkdir -p "$out/obj"

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "build.sh: $cc not found (hint: apt-get install clang libclang-rt-14-dev)" >&2
    exit 1
fi
probe="$out/obj/probe.c"
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe" -o "$out/obj/probe" 2>/dev/null; then
    echo "build.sh: $cc cannot link -fsanitize=fuzzer (hint: apt-get install libclang-rt-14-dev)" >&2
    exit 1
fi

stb_cflags=$(pkg-config --cflags stb 2>/dev/null || echo "-I/usr/include/stb")
stb_libs=$(pkg-config --libs stb 2>/dev/null || echo "-lstb")
if ! sdl_cflags=$(pkg-config --cflags sdl2 2>/dev/null); then
    echo "build.sh: SDL2 headers not found for the tour harness (hint: apt-get install libsdl2-dev)" >&2
    exit 1
fi
# cs_config.h (asset directories) comes from the meson build dir when there is one.
cfg=""
for d in "$root/build" "$root/builddir"; do
    if [ -f "$d/cs_config.h" ]; then
        cfg="-I$d"
        break
    fi
done

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cflags="-std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $san -I$root/src $cfg $stb_cflags"
cflags="$cflags -Wall -Wextra -Wno-unused-parameter"

lib_sources="core/status.c core/graph.c
io/json.c io/safetensors.c io/npy.c io/image.c io/labels.c io/grid.c io/idx.c
models/registry.c models/layers.c models/init.c models/lenet.c models/alexnet.c models/googlenet.c
models/vgg.c models/resnet.c models/xception.c models/senet.c models/densenet.c models/fashion.c"

objs=""
for s in $lib_sources; do
    o="$out/obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')"
    # shellcheck disable=SC2086
    "$cc" $cflags -fsanitize=fuzzer-no-link -c "$root/src/$s" -o "$o"
    objs="$objs $o"
done
rm -f "$out/libcs_fuzz.a"
# shellcheck disable=SC2086
ar rcs "$out/libcs_fuzz.a" $objs

stb_obj=""
if [ "$stb" = "instrumented" ]; then
    printf '#define STB_IMAGE_IMPLEMENTATION\n#include <stb_image.h>\n' >"$out/obj/stb_image_impl.c"
    # shellcheck disable=SC2086
    "$cc" -std=c11 -g -O1 $san -fsanitize=fuzzer-no-link $stb_cflags -w -c "$out/obj/stb_image_impl.c" \
        -o "$out/obj/stb_image_impl.o"
    stb_obj="$out/obj/stb_image_impl.o"
elif [ "$stb" != "system" ]; then
    echo "build.sh: STB must be 'system' or 'instrumented', not '$stb'" >&2
    exit 1
fi

# The CLI harness compiles src/cli/cli_util.c (cli_opt, cli_int, cli_parse_hw)
# and includes src/cli/cmd_run.c itself.
# shellcheck disable=SC2086
"$cc" $cflags -fsanitize=fuzzer-no-link -c "$root/src/cli/cli_util.c" -o "$out/obj/cli_cli_util.o"
# The tour harness links viewer/tour.c alone (its state calls are stubbed in
# fuzz_tour.c); SDL.h only for the types in state.h/render.h.
# shellcheck disable=SC2086
"$cc" $cflags $sdl_cflags -fsanitize=fuzzer-no-link -c "$root/viewer/tour.c" -o "$out/obj/viewer_tour.o"

harnesses="json safetensors npy image cli idx tour"
for h in $harnesses; do
    extra=""
    hflags=""
    case "$h" in
    image) extra="$stb_obj" ;;
    cli) extra="$out/obj/cli_cli_util.o" ;;
    tour)
        extra="$out/obj/viewer_tour.o"
        hflags="-I$root/viewer $sdl_cflags"
        ;;
    esac
    # shellcheck disable=SC2086
    "$cc" $cflags $hflags -D_GNU_SOURCE -fsanitize=fuzzer "$here/fuzz_$h.c" $extra "$out/libcs_fuzz.a" $stb_libs -lz -lm \
        -o "$out/fuzz_$h"
done
echo "build.sh: built $(for h in $harnesses; do printf 'fuzz_%s ' "$h"; done)in $out (stb: $stb)"
