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

src=$(cd "$(dirname "$0")/.." && pwd)
img=$src/assets/images/fashion-ankle-boot.png
t_models()     { expect_status 0 "$bin" models && [ "$(grep -c . "$tmp/out")" -eq 35 ] && has "resnet50" "$tmp/out"; }
t_models_json() { expect_status 0 "$bin" models --json && has '"model": "densenet121"' "$tmp/out" &&
                  has '"params": 7978856' "$tmp/out"; }
t_info()       { expect_status 0 "$bin" info resnet50 && has "total: .* 25557032 trainable parameters, 4.089 GMACs" "$tmp/out" &&
                 has "residual unit layer4.2" "$tmp/out"; }
t_info_input() { expect_status 0 "$bin" info resnet18 --input 64x64 && has "512x2x2" "$tmp/out"; }
t_info_keys()  { expect_status 0 "$bin" info lenet5 --keys && has "^c1.weight \[6, 1, 5, 5\]" "$tmp/out"; }
t_info_bad()   { expect_status 1 "$bin" info resnet19 && has "unknown model 'resnet19'" "$tmp/err"; }
t_run()        { expect_status 0 "$bin" run lenet5 "$img" --top 3 && has "trained (.*lenet5.safetensors)" "$tmp/out" &&
                 [ "$(grep -c '%' "$tmp/out")" -eq 3 ] && grep -A1 "fashion-ankle-boot" "$tmp/out" | has "Ankle boot" -; }
t_run_untrained() { expect_status 0 "$bin" run resnet18 "$src/assets/images/cat.jpg" --top 2 && has "untrained" "$tmp/out"; }
t_run_cpu()    { expect_status 0 "$bin" run lenet5 "$img" --device cpu --quiet && has "fashion-ankle-boot" "$tmp/out"; }
t_run_json()   { expect_status 0 "$bin" run lenet5 "$img" "$img" --json --top 2 && [ "$(grep -c '"top": \[{' "$tmp/out")" -eq 2 ] &&
                 has '"trained": true' "$tmp/out"; }
t_run_npy()    {
    expect_status 0 "$bin" run lenet5 "$img" "$img" --output-npy "$tmp/y.npy" --quiet &&
        [ -s "$tmp/y.npy" ] && head -c 128 "$tmp/y.npy" | grep -q "'shape': (2, 10)"
}
t_run_dump()   {
    expect_status 0 "$bin" run lenet5 "$img" --dump "$tmp/d" --dump-png "$tmp/p" --quiet &&
        [ "$(ls "$tmp/d" | grep -c '\.npy$')" -eq "$(ls "$tmp/p" | grep -c '\.png$')" ] &&
        [ -s "$tmp/d/0001_c1.npy" ] && [ -s "$tmp/p/0001_c1.png" ] &&
        head -c 128 "$tmp/d/0001_c1.npy" | grep -q "'shape': (1, 6, 28, 28)"
}
t_run_input_npy() {
    # a dumped input tensor fed back in gives the same top class
    expect_status 0 "$bin" run lenet5 "$img" --dump "$tmp/d2" --top 1 --quiet && cp "$tmp/out" "$tmp/a" &&
        expect_status 0 "$bin" run lenet5 --input-npy "$tmp/d2/0000_input.npy" --top 1 --quiet &&
        [ "$(grep '%' "$tmp/a")" = "$(grep '%' "$tmp/out")" ]
}
t_run_profile() { expect_status 0 "$bin" run lenet5 "$img" --profile && has "device time:" "$tmp/out" && has " c3 " "$tmp/out"; }
t_run_badimg() { printf 'not an image' >"$tmp/bad.png"; expect_status 1 "$bin" run lenet5 "$tmp/bad.png" && has "not an image" "$tmp/err"; }
t_run_noimg()  { expect_status 1 "$bin" run lenet5 "$tmp/missing.png" && has "missing.png" "$tmp/err"; }
t_run_noargs() { expect_status 2 "$bin" run lenet5 && has "give one or more images" "$tmp/err"; }
t_run_baddev() { expect_status 1 "$bin" run lenet5 "$img" --device 99 && has "devices are: 0:" "$tmp/err"; }
t_run_badweights() { printf 'garbage' >"$tmp/w.safetensors"; expect_status 1 "$bin" run lenet5 "$img" --weights "$tmp/w.safetensors" &&
                     has "w.safetensors" "$tmp/err"; }
t_run_empty_npy() { expect_status 1 "$bin" run lenet5 --input-npy "$src/tests/fuzz/crashes-found/cli-input-npy-1.npy" --device cpu &&
                    has "non-empty (N, C, H, W)" "$tmp/err"; }
t_run_elongated() { expect_status 1 "$bin" run resnet18 "$src/tests/fuzz/crashes-found/image-2" --device cpu &&
                    has "too elongated" "$tmp/err"; }
t_run_jpeg_dht() { expect_status 1 "$bin" run lenet5 "$src/tests/fuzz/crashes-found/image-5" --device cpu &&
                   has "more than 256 codes" "$tmp/err"; }
t_run_png_chunk() { expect_status 1 "$bin" run lenet5 "$src/tests/fuzz/crashes-found/image-6" --device cpu &&
                    has "chunk is longer than the file" "$tmp/err"; }
t_run_pgm16()  { expect_status 0 "$bin" run lenet5 "$src/tests/fuzz/crashes-found/image-4" --device cpu --quiet; }
t_run_badopt() { expect_status 2 "$bin" run lenet5 "$img" --frobnicate && has "unknown option" "$tmp/err"; }
t_bench()      { expect_status 0 "$bin" bench lenet5 --runs 3 --json && has '"model": "lenet5"' "$tmp/out" &&
                 has '"median_ms": ' "$tmp/out" && has '"cold_start_ms": ' "$tmp/out" && has '"gflops": ' "$tmp/out"; }
t_subhelp()    { for c in devices models info run bench; do expect_status 0 "$bin" $c --help || return 1; has "usage: convscope $c" "$tmp/out" || return 1; done; }

check "--help lists commands" t_help
check "every subcommand has --help" t_subhelp
check "models lists 34 architectures" t_models
check "models --json" t_models_json
check "info resnet50: params and MACs" t_info
check "info --input" t_info_input
check "info --keys" t_info_keys
check "info of an unknown model" t_info_bad
check "run lenet5 on a sample image" t_run
check "run on the CPU reference" t_run_cpu
check "run --json, two images" t_run_json
check "run --output-npy (N x classes)" t_run_npy
check "run --dump and --dump-png" t_run_dump
check "run --input-npy reproduces the image result" t_run_input_npy
check "run --profile" t_run_profile
check "run: an image that does not decode" t_run_badimg
check "run: a missing image" t_run_noimg
check "run: no input" t_run_noargs
check "run: a device index that does not exist" t_run_baddev
check "run: a weights file that is not safetensors" t_run_badweights
check "run: unknown option" t_run_badopt
check "run: an empty .npy input is refused (fuzz finding)" t_run_empty_npy
check "run: a 1 x 16384 image is refused before a huge resize (fuzz finding)" t_run_elongated
check "run: a 16-bit PGM decodes (stb 2.27 over-read worked around)" t_run_pgm16
check "run: a JPEG with an oversized Huffman table is refused (fuzz finding)" t_run_jpeg_dht
check "run: a PNG chunk longer than the file is refused (fuzz finding)" t_run_png_chunk
check "bench --json" t_bench
check "run: a model without shipped weights says untrained" t_run_untrained
t_mem_limit() { CONVSCOPE_DEVICE_MEM_LIMIT=300K expect_status 1 "$bin" run fashion_resnet8 "$img" &&
                has "CONVSCOPE_DEVICE_MEM_LIMIT" "$tmp/err" && has "smaller --batch" "$tmp/err" &&
                CONVSCOPE_DEVICE_MEM_LIMIT=4M expect_status 0 "$bin" run fashion_resnet8 "$img" --top 1 &&
                CONVSCOPE_DEVICE_MEM_LIMIT=12x expect_status 1 "$bin" run lenet5 "$img" && has "not a size" "$tmp/err"; }
check "run: device memory is budgeted before allocating (CONVSCOPE_DEVICE_MEM_LIMIT)" t_mem_limit
# Training and evaluation (Fashion-MNIST from Debian's dataset-fashion-mnist).
fm=/usr/share/datasets/fashion-mnist
t_train() {
    expect_status 0 "$bin" train lenet5 --epochs 1 --limit 640 --batch 32 --out "$tmp/l5.safetensors" &&
        has "^epoch 1/1: loss .* test acc .*saved" "$tmp/out" && [ -s "$tmp/l5.safetensors" ] &&
        [ -s "$tmp/l5.safetensors.state" ]
}
t_train_resume() {
    expect_status 0 "$bin" train lenet5 --epochs 2 --limit 640 --batch 32 --out "$tmp/l5.safetensors" --resume &&
        has "(resumed)" "$tmp/out" && has "^epoch 2/2" "$tmp/out" && ! grep -q "^epoch 1/" "$tmp/out" &&
        expect_status 0 "$bin" train lenet5 --epochs 2 --limit 640 --batch 32 --out "$tmp/l5.safetensors" --resume &&
        has "nothing to do" "$tmp/out"
}
t_train_sigint() { # Ctrl-C: exit 130, the last checkpoint stays loadable
    "$bin" train lenet5 --epochs 100 --limit 640 --batch 32 --out "$tmp/l5.safetensors" --resume \
        >"$tmp/out" 2>"$tmp/err" &
    local pid=$!
    sleep 3
    kill -INT "$pid"
    wait "$pid"
    local got=$?
    [ "$got" -eq 130 ] || { echo "  exit status $got, wanted 130"; return 1; }
    has "interrupted" "$tmp/err" && ls "$tmp" | { ! grep -q "tmp\."; } &&
        expect_status 0 "$bin" eval lenet5 --weights "$tmp/l5.safetensors" --limit 500 && has "^accuracy: " "$tmp/out"
}
t_train_bad_model() { expect_status 1 "$bin" train alexnet --out "$tmp/a.safetensors" --epochs 1 &&
                      has "alexnet takes 3x224x224" "$tmp/err" && [ ! -e "$tmp/a.safetensors" ]; }
t_train_no_out() { expect_status 2 "$bin" train lenet5 && has "--out" "$tmp/err"; }
t_train_no_data() { expect_status 1 "$bin" train lenet5 --data "$tmp/nowhere" --out "$tmp/x.safetensors" &&
                    has "dataset-fashion-mnist" "$tmp/err"; }
t_train_bad_opt() { expect_status 2 "$bin" train lenet5 --out x --optimizer rmsprop && has "sgd or adam" "$tmp/err"; }
t_eval() { expect_status 0 "$bin" eval lenet5 && has "^accuracy: 9\|^accuracy: 8[9]" "$tmp/out"; }
t_eval_confusion() { expect_status 0 "$bin" eval lenet5 --limit 1000 --confusion --device cpu &&
                     has "Ankle boot" "$tmp/out" && has "recall" "$tmp/out" && has "(.* of 1000)" "$tmp/out"; }
t_eval_json() { expect_status 0 "$bin" eval fashion_resnet8 --limit 200 --json && has '"accuracy":' "$tmp/out" &&
                has '"images":200' "$tmp/out"; }
if [ -d "$fm" ]; then
    check "train: one epoch writes the weights and the optimizer state" t_train
    check "train --resume: continues at the next epoch, nothing to do when done" t_train_resume
    check "train: Ctrl-C exits 130 and leaves the last checkpoint intact" t_train_sigint
    check "train: a model that does not fit 28x28 grey is refused clearly" t_train_bad_model
    check "train: --data without the IDX files: clear error" t_train_no_data
    check "eval: the shipped lenet5 reaches 89% on the test set" t_eval
    check "eval --confusion on the CPU reference" t_eval_confusion
    check "eval --json" t_eval_json
else
    echo "SKIP train/eval: $fm is missing (apt-get install dataset-fashion-mnist)"
fi
check "train: --out is required" t_train_no_out
check "train: unknown optimizer" t_train_bad_opt

check "no arguments: usage, exit 2" t_no_args
check "unknown command: exit 2" t_unknown
check "devices --help" t_dev_help
check "devices rejects unknown options" t_dev_badopt
check "devices lists device 0 and the reference backend" t_devices
check "devices --json" t_dev_json
check "no OpenCL platform: clear error and install hint" t_no_platform

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
