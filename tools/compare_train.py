#!/usr/bin/python3
"""Times one training epoch of LeNet-5 on Fashion-MNIST in PyTorch (CPU, the
same model as convscope's lenet5: tools/cs_reference.py, batch 64, Adam) and
in `convscope train`, on the same machine in the same run, and prints both
and the ratio. A tool for the README's numbers, never a test dependency.

usage: tools/compare_train.py [--convscope build/convscope] [--threads 2] [--epochs 1]
"""
import argparse
import gzip
import os
import re
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cs_reference  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def lenet_input(images):
    # convscope's LeNet preprocessing: pad 28x28 to 32x32 with background 0,
    # then (v / 255 - mean) / std with mean 0.0784314, std 0.7843137.
    x = np.zeros((images.shape[0], 1, 32, 32), np.float32)
    x[:, 0, 2:30, 2:30] = images.astype(np.float32) / 255.0
    return (x - np.float32(0.0784314)) / np.float32(0.7843137)


def torch_epoch(x, y, epochs, batch):
    torch.manual_seed(1)
    model = cs_reference.LeNet5()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    steps = x.shape[0] // batch
    times = []
    for _ in range(epochs):
        perm = torch.randperm(x.shape[0])
        t0 = time.perf_counter()
        for s in range(steps):
            idx_ = perm[s * batch:(s + 1) * batch]
            opt.zero_grad()
            m = model
            h = m.s2(m.c1_act(m.c1(xs[idx_])))
            h = m.c5_act(m.c5(m.s4(m.c3_act(m.c3(h)))))
            logits = m.output(m.f6_act(m.f6(torch.flatten(h, 1))))  # the softmax is in the loss
            loss = F.cross_entropy(logits, ys[idx_])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--convscope", default="build/convscope")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    images = idx(os.path.join(DATA, "train-images-idx3-ubyte.gz"))
    labels = idx(os.path.join(DATA, "train-labels-idx1-ubyte.gz"))
    x = lenet_input(images)
    pt = torch_epoch(x, labels, a.epochs, a.batch)
    out = subprocess.run([a.convscope, "train", "lenet5", "--epochs", str(a.epochs), "--batch", str(a.batch),
                          "--quiet", "--out", "/tmp/compare_train_lenet5.safetensors"],
                         capture_output=True, text=True, check=True).stdout
    cs = [float(m) for m in re.findall(r"test acc [0-9.]+%, ([0-9.]+) s", out)]
    for f in ("/tmp/compare_train_lenet5.safetensors", "/tmp/compare_train_lenet5.safetensors.state"):
        if os.path.exists(f):
            os.remove(f)
    n = (x.shape[0] // a.batch) * a.batch
    pt_med, cs_med = float(np.median(pt)), float(np.median(cs))
    print(f"lenet5, {n} images per epoch, batch {a.batch}, Adam; median of {a.epochs} epoch(s)")
    print(f"  PyTorch {torch.__version__} CPU ({a.threads} threads): {pt_med:.1f} s/epoch, {n / pt_med:.0f} img/s")
    print(f"  convscope (OpenCL device 0):  {cs_med:.1f} s/epoch, {n / cs_med:.0f} img/s")
    print(f"  convscope / PyTorch time: {cs_med / pt_med:.2f}")


if __name__ == "__main__":
    main()
