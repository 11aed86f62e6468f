#!/usr/bin/env python3
"""Writes the sample images in assets/images/.

- fashion-<class>.png: the first item of each class in the Fashion-MNIST test
  set (Debian's dataset-fashion-mnist, MIT licence), 28x28 greyscale.
- cat.jpg, coffee.jpg: scikit-image's CC0 photographs "chelsea" (Stefan van
  der Walt) and "coffee" (Rachel Michetti), from Debian's python3-skimage
  package (pass its data directory with --skimage-data).

Usage: /usr/bin/python3 tools/make_samples.py [--skimage-data DIR]
"""
import argparse
import gzip
import os

from PIL import Image

CLASSES = ["tshirt", "trouser", "pullover", "dress", "coat",
           "sandal", "shirt", "sneaker", "bag", "ankle-boot"]
DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return shape, raw[4 + 4 * dims:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skimage-data", default="/usr/lib/python3/dist-packages/skimage/data")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "assets", "images"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    (n, h, w), pixels = read_idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz"))
    _, labels = read_idx(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz"))
    done = set()
    for i in range(n):
        c = labels[i]
        if c in done:
            continue
        done.add(c)
        img = Image.frombytes("L", (w, h), pixels[i * h * w:(i + 1) * h * w])
        img.save(os.path.join(args.out, f"fashion-{CLASSES[c]}.png"))
        if len(done) == 10:
            break
    for src, dst in (("chelsea.png", "cat.jpg"), ("coffee.png", "coffee.jpg")):
        path = os.path.join(args.skimage_data, src)
        if os.path.exists(path):
            Image.open(path).convert("RGB").save(os.path.join(args.out, dst), quality=90)
        else:
            print(f"skipped {dst}: {path} not found (apt-get install python3-skimage)")


if __name__ == "__main__":
    main()
