"""Export a reference model's weights to safetensors for `convscope run --weights`.

Keys are exactly those of the reference model's state_dict() (torchvision for
alexnet, vgg*, googlenet, resnet*, densenet*; timm for xception = legacy_xception
and seresnet*; tools/cs_reference.py for lenet5, lenet5_1998, alexnet_2012,
googlenet_2014, se_googlenet), float32, num_batches_tracked dropped. GoogLeNet's
auxiliary heads (aux1., aux2.) are kept: the C loader ignores them.

ImageNet weights (needs internet once; torchvision/timm cache the download):
    python3 tools/export_weights.py resnet50 resnet50.safetensors --pretrained
    convscope run resnet50 cat.jpg --weights resnet50.safetensors

Without --pretrained the seeded init of tools/cs_init.py fills the model (the
weights cs_graph_init_seeded gives the C graph), so a round trip is testable
offline:
    python3 tools/export_weights.py resnet18 /tmp/r18.safetensors --seed 7

--num-classes K replaces the classifier with K outputs (not with --pretrained).
Requires torch and torchvision (and timm for xception/seresnet*), e.g.
/opt/csref/bin/python on the development machine.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cs_init  # noqa: E402
from make_goldens import MODELS, OWN, write_safetensors  # noqa: E402

TIMM_NAMES = {"xception": "legacy_xception", "seresnet50": "seresnet50", "seresnet101": "seresnet101",
              "seresnet152": "seresnet152"}


def fail(msg, hint=None):
    print(f"export_weights: error: {msg}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    sys.exit(1)


def build(name, pretrained, num_classes):
    """(model, description) with num_classes outputs (None: the default)."""
    kw = {} if num_classes is None else {"num_classes": num_classes}
    if name in OWN:
        if pretrained:
            fail(f"{name} is convscope's own variant: there are no published weights to download",
                 "drop --pretrained to export the seeded init, or train it and save its state_dict")
        import cs_reference
        return cs_reference.build(name, num_classes=num_classes), f"tools/cs_reference.py build('{name}')"
    if name in TIMM_NAMES:
        import timm
        model = timm.create_model(TIMM_NAMES[name], pretrained=pretrained, **kw)
        return model, f"timm {TIMM_NAMES[name]} {timm.__version__}"
    import torchvision
    tv = torchvision.models
    if pretrained:
        weights = tv.get_model_weights(name).DEFAULT
        kw = {}
    else:
        weights = None
    if name == "googlenet":
        # The published weights come with aux heads and transform_input=True;
        # convscope's googlenet always applies transform_input. The seeded
        # export keeps the aux heads too, so the loader's skip path is tested.
        model = tv.googlenet(weights=weights, transform_input=True, aux_logits=True,
                             init_weights=not pretrained, **kw)
    else:
        model = getattr(tv, name)(weights=weights, **kw)
    return model, f"torchvision.models.{name} {torchvision.__version__}" + (f" {weights}" if weights else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("model", help="zoo name: " + ", ".join(MODELS))
    ap.add_argument("out", help="output .safetensors file")
    ap.add_argument("--pretrained", action="store_true", help="download the published ImageNet weights")
    ap.add_argument("--seed", type=int, default=1, help="seeded init when not --pretrained (default 1)")
    ap.add_argument("--num-classes", type=int, default=None, help="classifier outputs (default: the model's)")
    args = ap.parse_args()

    if args.model not in MODELS:
        fail(f"unknown model '{args.model}'", "models are: " + ", ".join(MODELS))
    if args.pretrained and args.num_classes is not None:
        fail("--num-classes and --pretrained do not go together: the published classifier has 1000 outputs",
             "export the pretrained model, then fine-tune it in PyTorch and export that")
    if args.num_classes is not None and args.num_classes < 1:
        fail(f"--num-classes must be at least 1, got {args.num_classes}")
    try:
        import torch
    except ImportError:
        fail("PyTorch is not importable from " + sys.executable,
             "install python3-torch and python3-torchvision (and timm for xception/seresnet*)")

    try:
        model, ref = build(args.model, args.pretrained, args.num_classes)
    except Exception as e:  # downloads fail without internet; say so plainly
        if args.pretrained:
            fail(f"could not get the pretrained weights of {args.model}: {e}",
                 "this needs internet access once (torchvision/timm cache the download); "
                 "or run without --pretrained for the seeded init")
        raise
    model.eval()
    if not args.pretrained:
        cs_init.init_state_dict(model, args.seed)

    tensors = {}
    for key, t in model.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue
        if not t.is_floating_point():
            fail(f"tensor '{key}' has dtype {t.dtype}, not floating point", "this model needs export support")
        tensors[key] = t.detach().to(torch.float32).contiguous().numpy()
    meta = {"model": args.model, "reference": ref, "tool": "tools/export_weights.py",
            "weights": "pretrained" if args.pretrained else f"seeded init, seed {args.seed}"}
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        fail(f"output folder '{out_dir}' does not exist", "create it first")
    write_safetensors(args.out, tensors, meta)
    total = sum(a.size for a in tensors.values())
    print(f"{args.out}: {len(tensors)} tensors, {total:,} floats, {os.path.getsize(args.out):,} bytes ({ref})")


if __name__ == "__main__":
    main()
