#!/bin/sh
# convscope-viewer without a display: --screenshot renders chosen states with
# SDL's software renderer. Checks exit codes, that the PNGs exist and differ
# between layers and models, that the residual panel is drawn inside a
# residual unit (and not outside one), and that a bad image is reported and
# still gives a screenshot.
# usage: test_viewer.sh PATH/TO/convscope-viewer
set -u
VIEWER=${1:?usage: test_viewer.sh PATH/TO/convscope-viewer}
export SDL_VIDEODRIVER=${SDL_VIDEODRIVER:-offscreen}
export SDL_AUDIODRIVER=dummy
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cs-viewer-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
FAILED=0
SIZE=1280x720

fail() {
    echo "FAIL: $*"
    FAILED=1
}

# shot NAME ARGS...: screenshot into $TMP/NAME.png, stdout in NAME.out, stderr in NAME.err
shot() {
    name=$1
    shift
    "$VIEWER" --size $SIZE --screenshot "$TMP/$name.png" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    rc=$?
    if [ $rc -ne 0 ]; then
        fail "$name: exit $rc"
        cat "$TMP/$name.err"
        return
    fi
    [ -s "$TMP/$name.png" ] || fail "$name: no PNG written"
    ls "$TMP" | grep -q "\.tmp-" && fail "$name: a temporary file was left behind"
    echo "ok: $name"
}

differ() {
    if cmp -s "$TMP/$1.png" "$TMP/$2.png"; then
        fail "$1 and $2 are the same picture"
    else
        echo "ok: $1 differs from $2"
    fi
}

"$VIEWER" --help >/dev/null || fail "--help"

shot lenet_default
shot lenet_later --layer c3_act
shot lenet_last --layer softmax
shot lenet_help --keys h
shot lenet_scope --layer c1 --keys ggg
differ lenet_default lenet_later
differ lenet_later lenet_last
differ lenet_default lenet_help
differ lenet_default lenet_scope
grep -q "^panel:" "$TMP/lenet_default.out" && fail "lenet5 c1 drew a block panel"

shot resnet_sum --model resnet18 --layer layer1.0
shot resnet_stem --model resnet18 --layer maxpool
grep -q "^panel: residual$" "$TMP/resnet_sum.out" || fail "resnet18 layer1.0: no 'panel: residual' on stdout"
grep -q "^panel:" "$TMP/resnet_stem.out" && fail "resnet18 maxpool: a block panel outside any block"
differ resnet_sum resnet_stem

shot alexnet --model alexnet
differ lenet_default alexnet

# a tour by name, stepped to its end with the clicker's key (switches model on the way)
shot tour --tour lenet --keys '>>>>>>>>>'
grep -q "tour step" "$TMP/tour.err" && fail "tour: a step names a missing layer" && cat "$TMP/tour.err"
differ lenet_last tour

# a bad image: shown as an error in the window and on stderr, still exit 0
printf 'not an image\n' >"$TMP/x.png"
shot bad_image --image "$TMP/x.png"
grep -q "image" "$TMP/bad_image.err" || fail "bad image: no message on stderr"
differ lenet_default bad_image

# usage errors fail loudly
if "$VIEWER" --model no_such_model --screenshot "$TMP/none.png" >/dev/null 2>"$TMP/none.err"; then
    fail "an unknown model exits 0"
fi
[ -e "$TMP/none.png" ] && fail "an unknown model wrote a screenshot"
if "$VIEWER" --layer no_such_layer --screenshot "$TMP/none.png" >/dev/null 2>&1; then
    fail "an unknown layer exits 0"
fi

[ $FAILED -eq 0 ] && echo "all viewer checks passed"
exit $FAILED
