#!/usr/bin/env bash
# Round trip of tools/export_weights.py: export resnet18 and googlenet (seed 7,
# googlenet with its aux heads, which the loader must ignore), run them with
# `convscope run --weights` on the CPU reference and on OpenCL device 0, and
# compare the logits with PyTorch's on the same weights and input.
# Needs PyTorch, so it is a developer test, not a CI one: it exits 77 (skipped)
# when $PYTHON (default /opt/csref/bin/python) cannot import torch.
# usage: tools/check_export.sh [PATH/TO/convscope]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cs=${1:-$root/build/convscope}
py=${PYTHON:-/opt/csref/bin/python}

if ! "$py" -c 'import torch, torchvision' 2>/dev/null; then
    echo "skip: $py cannot import torch and torchvision (set PYTHON to one that can)"
    exit 77
fi
if [ ! -x "$cs" ]; then
    echo "error: no convscope at $cs"
    echo "hint: ninja -C build, or pass the binary's path"
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

for model in resnet18 googlenet; do
    if ! "$py" "$root/tools/export_weights.py" "$model" "$tmp/$model.safetensors" --seed 7; then
        echo "FAIL $model: export"
        failed=$((failed + 1))
        continue
    fi
    # PyTorch's logits on an independent seed-7 model, and the input.
    if ! "$py" - "$root/tools" "$model" "$tmp" <<'EOF'; then
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np, torch, cs_init, make_goldens
name, tmp = sys.argv[2], sys.argv[3]
torch.set_num_threads(2)
model, _ = make_goldens.reference(name)
model.eval()
cs_init.init_state_dict(model, 7)
x = cs_init.seeded_uniform(7, "input", (2, 3, 224, 224))
np.save(f"{tmp}/{name}_in.npy", x)
with torch.no_grad():
    np.save(f"{tmp}/{name}_ref.npy", model(torch.from_numpy(x)).numpy())
EOF
        echo "FAIL $model: PyTorch reference"
        failed=$((failed + 1))
        continue
    fi
    for dev in cpu 0; do
        out="$tmp/${model}_out_$dev.npy"
        if ! "$cs" run "$model" --weights "$tmp/$model.safetensors" --input-npy "$tmp/${model}_in.npy" \
            --output-npy "$out" --device "$dev" --quiet >"$tmp/log" 2>&1; then
            echo "FAIL $model --device $dev: convscope run failed:"
            sed 's/^/    /' "$tmp/log"
            failed=$((failed + 1))
            continue
        fi
        if "$py" - "$out" "$tmp/${model}_ref.npy" "$model --device $dev" <<'EOF'; then
import sys
import numpy as np
y, ref = np.load(sys.argv[1]).astype(np.float64), np.load(sys.argv[2]).astype(np.float64)
y = y.reshape(ref.shape) if y.size == ref.size else y
if y.shape != ref.shape:
    print(f"FAIL {sys.argv[3]}: output shape {y.shape}, PyTorch's {ref.shape}")
    sys.exit(1)
rel = np.abs(y - ref).max() / np.abs(ref).max()
print(f"{'ok  ' if rel <= 1e-4 else 'FAIL'} {sys.argv[3]}: logits rel {rel:.3e} vs PyTorch (tolerance 1e-4)")
sys.exit(0 if rel <= 1e-4 else 1)
EOF
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
        fi
    done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
