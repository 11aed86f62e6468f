#!/usr/bin/env bash
# Installs what is missing, builds convscope, and runs the main job: the viewer
# when there is a display, headless inference on the shipped sample images
# otherwise. Extra arguments go to the viewer or to `convscope run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
if { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; } && [ -x build/viewer/convscope-viewer ]; then
    exec build/viewer/convscope-viewer "$@"
fi
echo "no display: headless inference (convscope run) on the sample images"
build/convscope devices
exec build/convscope run lenet5 assets/images/fashion-*.png --top 3 "$@"
