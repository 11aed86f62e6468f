#!/bin/sh
# convscope-viewer without a display: --screenshot renders chosen states with
# SDL's software renderer. Checks exit codes, that the PNGs exist and differ
# between layers and models, that each block panel (residual, SE, dense,
# inception, separable, LeNet) is drawn where it belongs and not outside its
# block, and that a bad image is reported and still gives a screenshot.
# --train: a few training steps render curves, filters and maps; a model that
# does not fit Fashion-MNIST is refused with exit 1.
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

# the special block panels: each drawn inside its block (the innermost block
# first: an SE block inside a residual unit or an inception module), none
# outside any block, and the picture differs from the same model without it
expect_panel() {
    if [ "$2" = none ]; then
        grep -q "^panel:" "$TMP/$1.out" && fail "$1: a block panel outside any block"
    else
        grep -q "^panel: $2\$" "$TMP/$1.out" || fail "$1: no 'panel: $2' on stdout"
    fi
}

shot se_resnet --model seresnet50 --layer layer1.0.se
shot se_resnet_stem --model seresnet50 --layer maxpool
expect_panel se_resnet se
expect_panel se_resnet_stem none
differ se_resnet se_resnet_stem

# the squeeze only: the gate is not computed yet, the panel says so
shot se_inception --model se_googlenet --layer inception3a.se.squeeze
shot se_inception_stem --model se_googlenet --layer maxpool2
expect_panel se_inception se
shot se_inception_concat --model se_googlenet --layer inception3a.concat
expect_panel se_inception_concat inception
expect_panel se_inception_stem none
differ se_inception se_inception_stem

shot dense_concat --model densenet121 --layer features.denseblock1.denselayer3.cat
shot dense_transition --model densenet121 --layer features.transition1.pool
shot dense_stem --model densenet121 --layer features.pool0
shot dense_presenter --model densenet121 --layer features.denseblock1.denselayer3.conv2 --presenter
expect_panel dense_concat dense
expect_panel dense_transition dense
expect_panel dense_presenter dense
expect_panel dense_stem none
differ dense_concat dense_stem
differ dense_transition dense_stem

shot inception --model googlenet --layer inception3a
shot inception_stem --model googlenet --layer maxpool2
expect_panel inception inception
expect_panel inception_stem none
differ inception inception_stem

shot separable --model xception --layer block1.rep.0.pointwise
shot separable_stem --model xception --layer act2
expect_panel separable separable
expect_panel separable_stem none
differ separable separable_stem

shot lenet1998_c3 --model lenet5_1998 --layer c3
shot lenet1998_rbf --model lenet5_1998 --layer output
shot lenet1998_c1 --model lenet5_1998 --layer c1
shot lenet_c3_panel --model lenet5 --layer c3
expect_panel lenet1998_c3 lenet
expect_panel lenet1998_rbf lenet
expect_panel lenet_c3_panel lenet
expect_panel lenet1998_c1 none
differ lenet1998_c3 lenet1998_c1
differ lenet1998_c3 lenet1998_rbf
differ lenet_c3_panel lenet1998_c3

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

# --train: watch a network learn. Needs Fashion-MNIST (skipped without it);
# runs on the default device, falling back to the CPU reference backend.
FASHION=${CONVSCOPE_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
if [ -e "$FASHION/train-images-idx3-ubyte.gz" ] || [ -e "$FASHION/train-images-idx3-ubyte" ]; then
    shot train_lenet --train lenet5 --data "$FASHION" --train-steps 60
    grep -q "^trained lenet5 for 60 steps" "$TMP/train_lenet.out" || fail "train_lenet: no 'trained lenet5 for 60 steps'"
    # a real frame (curves, filters, maps, text) compresses to tens of KB; a blank one to ~1 KB
    [ "$(wc -c <"$TMP/train_lenet.png" 2>/dev/null || echo 0)" -gt 20000 ] || fail "train_lenet: the PNG is nearly empty"
    shot train_start --train lenet5 --data "$FASHION" --train-steps 0
    differ train_start train_lenet
    # keys: next layer, next image, log axis, save the weights
    shot train_keys --train lenet5 --data "$FASHION" --train-steps 0 --keys ']nls' --out "$TMP/w.safetensors"
    differ train_start train_keys
    [ -s "$TMP/w.safetensors" ] || fail "train_keys: 's' wrote no weights to --out"
    grep -q "saved $TMP/w.safetensors" "$TMP/train_keys.out" || fail "train_keys: no 'saved' message"
else
    echo "skip: --train screenshots (no Fashion-MNIST in $FASHION)"
fi

# a model that cannot learn 28x28 grey images: a clear message, exit 1, no picture
"$VIEWER" --train alexnet --screenshot "$TMP/alexnet_train.png" >/dev/null 2>"$TMP/alexnet_train.err"
rc=$?
[ $rc -eq 1 ] || fail "--train alexnet: exit $rc, expected 1"
grep -q "alexnet cannot learn Fashion-MNIST" "$TMP/alexnet_train.err" || fail "--train alexnet: no clear message"
grep -q "^hint:" "$TMP/alexnet_train.err" || fail "--train alexnet: no hint"
[ -e "$TMP/alexnet_train.png" ] && fail "--train alexnet wrote a screenshot"
[ $rc -eq 1 ] && echo "ok: --train alexnet refused"

# --train options are checked
"$VIEWER" --train lenet5 --batch 0 --screenshot "$TMP/none.png" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--batch 0 does not exit 2"
"$VIEWER" --batch 8 --screenshot "$TMP/none.png" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--batch without --train does not exit 2"
"$VIEWER" --train lenet5 --train-steps 5 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--train-steps without --screenshot does not exit 2"

[ $FAILED -eq 0 ] && echo "all viewer checks passed"
exit $FAILED
