#!/usr/bin/env bash
# Trains every model shipped in assets/weights/ with the exact commands
# recorded in assets/weights/README.md, then checks each with `convscope eval`.
# Usage: bash tools/train_shipped.sh [MODEL...]   (default: all of them)
# Needs a release build in build/ (meson setup build && ninja -C build) and
# Debian's dataset-fashion-mnist. Takes about 40 minutes on two CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CONVSCOPE:-build/convscope}
out=assets/weights

# model epochs lr: Adam with a cosine schedule, batch 64, seed 1.
plan=(
  "lenet5 15 0.002"
  "lenet5_1998 10 0.002"
  "fashion_vgg 4 0.002"
  "fashion_resnet8 4 0.002"
  "fashion_seresnet8 4 0.002"
  "fashion_densenet 4 0.002"
  "fashion_inception 4 0.002"
  "fashion_xception 4 0.002"
)

want() { [ $# -eq 1 ] && return 0; for w in "${@:2}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

for row in "${plan[@]}"; do
  read -r model epochs lr <<<"$row"
  want "$model" "$@" || continue
  echo "== $model"
  "$bin" train "$model" --epochs "$epochs" --batch 64 --optimizer adam --lr "$lr" --schedule cosine \
    --seed 1 --quiet --out "$out/$model.safetensors"
  rm -f "$out/$model.safetensors.state"
  "$bin" eval "$model" --weights "$out/$model.safetensors"
done
