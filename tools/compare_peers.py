#!/usr/bin/env python3
"""Times convscope against its reference peers on this machine, in one run.

For each model (and batch) it runs, one after the other and never in parallel:
  1. convscope bench MODEL --json --device N   (the engine under test)
  2. PyTorch CPU eval: torch.set_num_threads(2), torch.no_grad(), warm-up, median of R runs
     (torchvision models; xception = timm legacy_xception, seresnet* = timm)
  3. OpenCV DNN on an ONNX export of the same model (torch.onnx.export, fixed batch,
     Identity nodes stripped with the onnx package): DNN_BACKEND_OPENCV with
     DNN_TARGET_CPU, and with DNN_TARGET_OPENCL (PoCL; OPENCV_DNN_OPENCL_ALLOW_ALL_DEVICES=1,
     OPENCV_OPENCL_DEVICE=:CPU:), median and the first run
and prints a Markdown table with the ratios the performance goal is stated in:
convscope's speedup over OpenCV's OpenCL target (goal >= 10x) and convscope time /
PyTorch time (goal <= 1.5), plus convscope's cold start and a machine description.

Every peer runs in its own child process of this interpreter (environment set before
import, a crash or a timeout stays in its cell). Weights are random (seeded): timing only.

Run it with the reference venv (torch 1.13, torchvision 0.14, timm 0.9.16, system site
packages for cv2/onnx):
    apt-get install -y python3-opencv python3-onnx libopenblas0-pthread
    /opt/csref/bin/python tools/compare_peers.py                       # default models, batch 1
    /opt/csref/bin/python tools/compare_peers.py --models resnet18 --runs 3
    /opt/csref/bin/python tools/compare_peers.py --batch 1 8 --json-out peers.json
Keep the machine quiet while it runs: the figures are only as good as the idle cores.
"""

import argparse
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

DEFAULT_MODELS = ["alexnet", "vgg16", "googlenet", "resnet50", "densenet121", "xception", "seresnet50"]
TIMM_NAMES = {"xception": "legacy_xception", "seresnet50": "seresnet50", "seresnet101": "seresnet101",
              "seresnet152": "seresnet152"}
OWN_MODELS = {"lenet5", "lenet5_1998", "alexnet_2012", "googlenet_2014", "se_googlenet"}  # tools/cs_reference.py
FALLBACK_INPUT = {"xception": (3, 299, 299), "lenet5": (1, 32, 32), "lenet5_1998": (1, 32, 32),
                  "alexnet_2012": (3, 227, 227)}
RESULT_TAG = "@@COMPARE_PEERS_RESULT "
OPENCV_OCL_FALLBACK = "switching to CPU"   # OpenCV DNN's warning when it refuses the OpenCL device


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ==========================================================================
# Workers (child processes): torch, export, opencv
# ==========================================================================

def seeded_model(name, seed):
    import torch
    torch.manual_seed(seed)
    if name in OWN_MODELS:
        sys.path.insert(0, HERE)
        import cs_reference
        return cs_reference.build(name), f"tools/cs_reference.py build('{name}')"
    if name in TIMM_NAMES:
        try:
            import timm
        except ImportError:
            raise RuntimeError(f"{name} needs timm: run this script with /opt/csref/bin/python")
        return timm.create_model(TIMM_NAMES[name], pretrained=False), f"timm {TIMM_NAMES[name]} {timm.__version__}"
    import torchvision
    tv = torchvision.models
    if name == "googlenet":
        return (tv.googlenet(weights=None, aux_logits=False, transform_input=True, init_weights=True),
                f"torchvision googlenet(aux_logits=False, transform_input=True) {torchvision.__version__}")
    if hasattr(tv, name):
        return getattr(tv, name)(weights=None), f"torchvision {name} {torchvision.__version__}"
    raise RuntimeError(f"no PyTorch reference for model '{name}'")


def seeded_input(shape, seed):
    import numpy as np
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)


def timed_runs(fn, spec, warm_ms):
    """Median-ready list of run times (ms). Runs: spec.runs, fewer when one run is slow
    (as many as fit in spec.budget_s, at least spec.min_runs)."""
    runs = spec["runs"]
    if warm_ms > 0 and spec["budget_s"] > 0:
        fit = int(spec["budget_s"] * 1000.0 / warm_ms)
        runs = max(min(runs, fit), min(spec["min_runs"], runs))
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def summary(times):
    return {"median_ms": statistics.median(times), "min_ms": min(times), "runs": len(times),
            "times_ms": [round(t, 3) for t in times]}


def peak_rss_mib():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_torch(spec):
    import torch
    torch.set_num_threads(spec["threads"])
    model, ref = seeded_model(spec["model"], spec["seed"])
    model.eval()
    x = torch.from_numpy(seeded_input(spec["shape"], spec["seed"]))
    with torch.no_grad():
        t0 = time.perf_counter()
        model(x)
        first_ms = (time.perf_counter() - t0) * 1000.0
        warm_ms = first_ms
        for _ in range(max(spec["warmup"] - 1, 0)):
            t0 = time.perf_counter()
            model(x)
            warm_ms = (time.perf_counter() - t0) * 1000.0
        times = timed_runs(lambda: model(x), spec, warm_ms)
    res = summary(times)
    res.update(first_ms=first_ms, threads=torch.get_num_threads(), reference=ref, peak_rss_mib=peak_rss_mib(),
               versions={"torch": torch.__version__, "mkldnn": torch.backends.mkldnn.is_available()})
    return res


def strip_identity(model_proto):
    """Removes Identity nodes, rewiring their consumers to the Identity's input (OpenCV 4.6
    rejects the Identity nodes torch.onnx.export emits). Returns how many were removed."""
    graph = model_proto.graph
    graph_outputs = {o.name for o in graph.output}
    removed = 0
    for node in list(graph.node):
        if node.op_type != "Identity":
            continue
        src, dst = node.input[0], node.output[0]
        if dst in graph_outputs:
            # keep the graph output's name: rename src to dst everywhere instead
            if src in {i.name for i in graph.input} or src in {i.name for i in graph.initializer}:
                continue  # output is an input/weight itself: leave it
            old, new = src, dst
        else:
            old, new = dst, src
        graph.node.remove(node)
        for n in graph.node:
            for k, name in enumerate(n.input):
                if name == old:
                    n.input[k] = new
            for k, name in enumerate(n.output):
                if name == old:
                    n.output[k] = new
        for vi in graph.value_info:
            if vi.name == old:
                vi.name = new
        removed += 1
    return removed


def worker_export(spec):
    import numpy as np
    import onnx
    import torch
    torch.set_num_threads(spec["threads"])
    model, ref = seeded_model(spec["model"], spec["seed"])
    model.eval()
    xn = seeded_input(spec["shape"], spec["seed"])
    x = torch.from_numpy(xn)
    path = spec["onnx"]
    raw = path + ".raw.onnx"
    t0 = time.perf_counter()
    with torch.no_grad():
        y = model(x)
        torch.onnx.export(model, x, raw, opset_version=spec["opset"], input_names=["input"],
                          output_names=["output"], do_constant_folding=True)
    proto = onnx.load(raw)
    removed = strip_identity(proto)
    onnx.checker.check_model(proto)
    onnx.save(proto, path)
    os.remove(raw)
    np.save(spec["input_npy"], xn)
    np.save(spec["ref_npy"], y.numpy())
    return {"reference": ref, "identity_removed": removed, "export_s": time.perf_counter() - t0,
            "opset": spec["opset"], "versions": {"onnx": onnx.__version__}}


def worker_opencv(spec):
    import numpy as np
    import cv2
    cv2.setNumThreads(spec["threads"])
    dnn = cv2.dnn
    opencl = spec["target"] == "opencl"
    info = {"versions": {"opencv": cv2.__version__}}
    if opencl:
        if not cv2.ocl.haveOpenCL():
            raise RuntimeError("OpenCV sees no OpenCL runtime")
        cv2.ocl.setUseOpenCL(True)
        dev = cv2.ocl.Device_getDefault()
        if not dev.available() or not dev.name():
            raise RuntimeError("OpenCV found no usable OpenCL device "
                               f"(OPENCV_OPENCL_DEVICE={os.environ.get('OPENCV_OPENCL_DEVICE')!r})")
        info["ocl_device"] = f"{dev.name()} ({dev.version()}, driver {dev.driverVersion()})"
    x = np.load(spec["input_npy"])
    ref = np.load(spec["ref_npy"])
    t0 = time.perf_counter()
    net = dnn.readNetFromONNX(spec["onnx"])
    load_ms = (time.perf_counter() - t0) * 1000.0
    net.setPreferableBackend(dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(dnn.DNN_TARGET_OPENCL if opencl else dnn.DNN_TARGET_CPU)

    def run():
        net.setInput(x)
        return net.forward()

    t1 = time.perf_counter()
    y = run()
    first_ms = (time.perf_counter() - t1) * 1000.0
    warm_ms = first_ms
    for _ in range(max(spec["warmup"] - 1, 0)):
        t1 = time.perf_counter()
        y = run()
        warm_ms = (time.perf_counter() - t1) * 1000.0
    times = timed_runs(run, spec, warm_ms)
    y = np.asarray(y).reshape(ref.shape) if np.asarray(y).size == ref.size else np.asarray(y)
    rel_err = (float(np.max(np.abs(y - ref)) / max(float(np.max(np.abs(ref))), 1e-30))
               if y.shape == ref.shape else float("nan"))
    info.update(summary(times))
    info.update(load_ms=load_ms, first_ms=first_ms, start_ms=load_ms + first_ms, rel_err_vs_torch=rel_err,
                threads=cv2.getNumThreads(), peak_rss_mib=peak_rss_mib())
    return info


def worker_main(kind, spec_json):
    spec = json.loads(spec_json)
    try:
        res = {"torch": worker_torch, "export": worker_export, "opencv": worker_opencv}[kind](spec)
        res["ok"] = True
    except Exception as e:  # reported in the table cell
        import traceback
        traceback.print_exc()
        res = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    sys.stdout.write(RESULT_TAG + json.dumps(res) + "\n")
    sys.stdout.flush()
    return 0


# ==========================================================================
# Parent: runs the engines sequentially, gathers, prints
# ==========================================================================

def run_child(cmd, env, timeout_s, label):
    """Runs cmd in its own session; returns (rc, stdout, stderr, wall_s). Kills the child's
    process group on timeout."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
                         start_new_session=True, cwd=ROOT)
    try:
        out, err = p.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        return None, out, err + f"\n{label}: timed out after {timeout_s} s", time.perf_counter() - t0
    except KeyboardInterrupt:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        raise
    return p.returncode, out, err, time.perf_counter() - t0


def last_lines(text, n=1):
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return " / ".join(lines[-n:])


def describe_rc(rc):
    if rc is None:
        return "timed out"
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit {rc}"


def python_env(extra=None, drop=()):
    env = dict(os.environ)
    # OpenBLAS core-type/L2 overrides make numpy/torch fall back to slow paths (PERFORMANCE.md)
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") + tuple(drop):
        env.pop(k, None)
    env.setdefault("PYTHONHASHSEED", "0")
    if extra:
        env.update(extra)
    return env


def run_worker(kind, spec, env, timeout_s, label):
    cmd = [sys.executable, os.path.abspath(__file__), "--_worker", kind, json.dumps(spec)]
    rc, out, err, wall = run_child(cmd, env, timeout_s, label)
    res = None
    for line in (out or "").splitlines():
        if line.startswith(RESULT_TAG):
            res = json.loads(line[len(RESULT_TAG):])
    if res is None:
        res = {"ok": False, "error": f"{describe_rc(rc)}: {last_lines(err, 2) or 'no output'}"}
    res["wall_s"] = wall
    if not res["ok"]:
        log(f"  {label} FAILED: {res['error']}")
        tail = "\n".join((err or "").splitlines()[-15:])
        if tail:
            log("    " + tail.replace("\n", "\n    "))
    return res, err or ""


def run_convscope(args, model, batch):
    cmd = [args.convscope, "bench", model, "--runs", str(args.runs), "--json", "--device", str(args.device),
           "--batch", str(batch)]
    if args.cold:
        cmd.append("--cold")
    if not os.access(args.convscope, os.X_OK):
        return {"ok": False, "error": f"no executable {args.convscope} (build it, or pass --convscope)"}
    rc, out, err, wall = run_child(cmd, dict(os.environ), args.timeout, "convscope")
    res = None
    for line in (out or "").splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if obj.get("model") == model:
                res = obj
    if rc != 0 or res is None or res.get("median_ms") is None:
        msg = f"{describe_rc(rc)}: {last_lines(err, 2) or last_lines(out, 1) or 'no JSON line'}"
        log(f"  convscope FAILED: {msg}")
        return {"ok": False, "error": msg, "wall_s": wall, "cmd": " ".join(cmd)}
    res.update(ok=True, wall_s=wall, cmd=" ".join(cmd), runs=args.runs)
    return res


# --------------------------------------------------------------------------
# Machine description
# --------------------------------------------------------------------------

def machine_info(args):
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            txt = f.read()
        m = re.search(r"^model name\s*:\s*(.+)$", txt, re.M)
        info["cpu"] = m.group(1).strip() if m else "unknown"
        flags = re.search(r"^flags\s*:\s*(.+)$", txt, re.M)
        fl = set(flags.group(1).split()) if flags else set()
        info["simd"] = "AVX-512" if "avx512f" in fl else "AVX2" if "avx2" in fl else "AVX" if "avx" in fl else "SSE"
        info["logical_cpus"] = len(re.findall(r"^processor\s*:", txt, re.M))
    except OSError:
        info["cpu"] = "unknown"
    try:
        info["usable_cores"] = len(os.sched_getaffinity(0))
    except AttributeError:
        info["usable_cores"] = os.cpu_count()
    info["devices_line"] = None
    info["pocl"] = None
    try:
        p = subprocess.run([args.convscope, "devices"], capture_output=True, text=True, timeout=120, cwd=ROOT)
        for line in p.stdout.splitlines():
            parts = line.split(None, 1)
            if parts and parts[0] == str(args.device):
                info["devices_line"] = re.sub(r"\s{2,}", "  ", line.strip())
                m = re.search(r"PoCL[^)]*driver ([^)\s]+)", line) or re.search(r"PoCL ([0-9][^\s]*)", line)
                if m:
                    info["pocl"] = m.group(1)
                elif "PoCL" in line or "Portable Computing Language" in line:
                    info["pocl"] = "yes (version not found)"
    except (OSError, subprocess.SubprocessError) as e:
        info["devices_line"] = f"convscope devices failed: {e}"
    try:
        p = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=ROOT,
                           timeout=30)
        info["convscope_rev"] = p.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        info["convscope_rev"] = None
    info["loadavg_start"] = loadavg()
    return info


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return [float(v) for v in f.read().split()[:3]]
    except OSError:
        return None


def input_shapes(args):
    """model -> (C, H, W) from `convscope models` (fallback: 3x224x224 and a few known ones)."""
    shapes = {}
    try:
        p = subprocess.run([args.convscope, "models"], capture_output=True, text=True, timeout=60, cwd=ROOT)
        for line in p.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 3 and re.fullmatch(r"\d+x\d+x\d+", parts[2]):
                shapes[parts[0]] = tuple(int(v) for v in parts[2].split("x"))
    except (OSError, subprocess.SubprocessError):
        pass
    return shapes


# --------------------------------------------------------------------------
# Table
# --------------------------------------------------------------------------

def fmt_ms(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


def cell_err(res, width=90):
    msg = re.sub(r"\s+", " ", res.get("error", "failed")).replace("|", "\\|")
    if len(msg) > width:
        msg = msg[:width - 1] + "…"
    return f"FAILED: {msg}"


def engine_cell(res, requested_runs, with_first=False):
    if res is None:
        return "skipped"
    if not res.get("ok"):
        return cell_err(res)
    s = fmt_ms(res["median_ms"])
    if res.get("runs") is not None and res["runs"] < requested_runs:
        s += f" (n={res['runs']})"
    if with_first and res.get("start_ms") is not None:
        s += f" (first {res['start_ms'] / 1000.0:.1f} s)"
    err = res.get("rel_err_vs_torch")
    if err is not None and not (isinstance(err, float) and math.isnan(err)) and err > 1e-2:
        s += f" ⚠ output differs from PyTorch (rel {err:.1e})"
    return s


def ok_median(res):
    return res["median_ms"] if res and res.get("ok") and res.get("median_ms") else None


def ratios(row):
    cs = ok_median(row.get("convscope"))
    ocl = ok_median(row.get("opencv_opencl"))
    pt = ok_median(row.get("pytorch"))
    row["speedup_vs_opencv_opencl"] = ocl / cs if cs and ocl else None
    row["convscope_over_pytorch"] = cs / pt if cs and pt else None


def mark(ok):
    return "✓" if ok else "✗"


def render(machine, config, rows):
    out = []
    out.append(f"## convscope vs peers ({time.strftime('%Y-%m-%d %H:%M')})")
    out.append("")
    cores = machine.get("usable_cores")
    out.append(f"- CPU: {machine.get('cpu')} ({machine.get('simd')}), {cores} usable core(s) of "
               f"{machine.get('logical_cpus')} logical")
    out.append(f"- OpenCL device {config['device']}: {machine.get('devices_line') or 'not listed by convscope devices'}"
               + (f"; PoCL {machine['pocl']}" if machine.get("pocl") else ""))
    v = machine.get("versions", {})
    vs = ", ".join(f"{k} {v[k]}" for k in ("torch", "opencv", "onnx") if k in v)
    out.append(f"- convscope {machine.get('convscope_rev') or '?'}; {vs or 'peer versions unknown'}; "
               f"peers with {config['threads']} threads; ONNX opset {config['opset']}; random seeded weights")
    out.append(f"- runs: convscope --runs {config['runs']} (after its 2 warm-ups); peers {config['warmup']} warm-up(s) "
               f"then up to {config['runs']} runs, fewer (n=, at least {config['min_runs']}) when they would take "
               f"over {config['budget_s']:g} s; median ms"
               + ("; --cold: empty PoCL/OpenCV caches" if config.get("cold") else "")
               + ("; PyTorch with OMP_WAIT_POLICY=PASSIVE" if config.get("omp_passive") else ""))
    la0, la1 = machine.get("loadavg_start"), machine.get("loadavg_end")
    if la0:
        out.append(f"- load average at start {la0[0]:.2f}" + (f", at end {la1[0]:.2f}" if la1 else "")
                   + (" (the machine was busy: treat the figures with care"
                      + ("; PyTorch's spin-waiting OpenMP threads suffer most, see --omp-passive"
                         if not config.get("omp_passive") else "") + ")" if la0[0] > 0.5 else ""))
    out.append("")
    out.append("| model | batch | convscope ms | convscope cold start ms | PyTorch ms | OpenCV CPU ms "
               "| OpenCV OpenCL ms (first run) | convscope speedup vs OpenCV-OpenCL (goal ≥ 10×) "
               "| convscope / PyTorch (goal ≤ 1.5) |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    R = config["runs"]
    sp_all, pt_all = [], []
    for row in rows:
        cs = row.get("convscope")
        cs_cell = engine_cell(cs, R)
        cold = fmt_ms(cs.get("cold_start_ms")) if cs and cs.get("ok") else "-"
        sp, pr = row.get("speedup_vs_opencv_opencl"), row.get("convscope_over_pytorch")
        if sp:
            sp_all.append(sp)
        if pr:
            pt_all.append(pr)
        sp_cell = f"{sp:.1f}× {mark(sp >= 10)}" if sp else "-"
        pr_cell = f"{pr:.2f} {mark(pr <= 1.5)}" if pr else "-"
        out.append(f"| {row['model']} | {row['batch']} | {cs_cell} | {cold} | {engine_cell(row.get('pytorch'), R)} "
                   f"| {engine_cell(row.get('opencv_cpu'), R)} | {engine_cell(row.get('opencv_opencl'), R, True)} "
                   f"| {sp_cell} | {pr_cell} |")
    if len(rows) > 1 and (sp_all or pt_all):
        gm = lambda xs: math.exp(sum(math.log(x) for x in xs) / len(xs))
        sp_cell = f"{gm(sp_all):.1f}× {mark(gm(sp_all) >= 10)} ({len(sp_all)})" if sp_all else "-"
        pr_cell = f"{gm(pt_all):.2f} {mark(gm(pt_all) <= 1.5)} ({len(pt_all)})" if pt_all else "-"
        out.append(f"| geometric mean | | | | | | | {sp_cell} | {pr_cell} |")
    out.append("")
    out.append("first run = OpenCV readNetFromONNX + first forward on the OpenCL target (kernel compiles; "
               "depends on the PoCL cache); convscope cold start = weights + device + kernels + first inference. "
               "n= : fewer timed runs than asked (slow engine).")
    return "\n".join(out)


# --------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Time convscope against PyTorch CPU and OpenCV DNN (CPU and OpenCL targets) on this machine; "
                    "prints a Markdown table. Run with /opt/csref/bin/python.")
    ap.add_argument("--models", nargs="+", default=DEFAULT_MODELS, metavar="MODEL",
                    help="models (default: %(default)s); commas also separate")
    ap.add_argument("--batch", nargs="+", type=int, default=[1], metavar="N", help="batch size(s) (default 1), e.g. --batch 1 8")
    ap.add_argument("--runs", type=int, default=10, help="timed runs per engine (default 10)")
    ap.add_argument("--min-runs", type=int, default=3, help="fewest timed runs for a slow peer (default 3)")
    ap.add_argument("--budget-s", type=float, default=15.0,
                    help="a peer does fewer than --runs runs (at least --min-runs) when they would take longer "
                         "than this, judged from its last warm-up (default 15; 0 = always --runs)")
    ap.add_argument("--warmup", type=int, default=2, help="peer warm-up runs, the first timed as first run (default 2)")
    ap.add_argument("--device", default="0", help="convscope --device (default 0, PoCL)")
    ap.add_argument("--threads", type=int, default=2, help="PyTorch and OpenCV CPU threads (default 2)")
    ap.add_argument("--convscope", default=os.path.join(ROOT, "build", "convscope"), help="convscope binary")
    ap.add_argument("--opset", type=int, default=11, help="ONNX opset for the OpenCV export (default 11)")
    ap.add_argument("--opencv-ocl-device", default=":CPU:",
                    help="OPENCV_OPENCL_DEVICE for the OpenCL target (default ':CPU:')")
    ap.add_argument("--omp-passive", action="store_true",
                    help="OMP_WAIT_POLICY=PASSIVE for PyTorch: its OpenMP threads otherwise spin-wait, which "
                         "multiplies its times several-fold when anything else uses the cores (default: PyTorch's "
                         "own default, right for a quiet machine)")
    ap.add_argument("--skip-torch", action="store_true", help="no PyTorch column")
    ap.add_argument("--skip-opencv", action="store_true", help="no OpenCV columns (no ONNX export)")
    ap.add_argument("--skip-opencl", action="store_true", help="no OpenCV OpenCL-target column")
    ap.add_argument("--cold", action="store_true",
                    help="convscope bench --cold, and fresh PoCL/OpenCV kernel caches for the OpenCV OpenCL target")
    ap.add_argument("--onnx-dir", help="keep the ONNX exports here (and reuse them); default: a temporary folder")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per engine per model (default 1800)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json-out", metavar="FILE", help="also write every figure as JSON")
    args = ap.parse_args(argv)
    args.models = [m for item in args.models for m in item.split(",") if m]
    if args.runs < 1 or args.min_runs < 1 or args.warmup < 1:
        ap.error("--runs, --min-runs and --warmup must be >= 1")
    return args


def main(argv):
    if len(argv) >= 1 and argv[0] == "--_worker":
        return worker_main(argv[1], argv[2])
    args = parse_args(argv)
    args.convscope = os.path.abspath(args.convscope)
    try:
        import timm  # noqa: F401
    except ImportError:
        if any(m in TIMM_NAMES for m in args.models):
            log("warning: this interpreter has no timm: xception/seresnet* peers will fail; "
                "run with /opt/csref/bin/python")

    machine = machine_info(args)
    if machine["loadavg_start"] and machine["loadavg_start"][0] > 0.5:
        log(f"warning: load average {machine['loadavg_start'][0]:.2f}: the machine is not quiet")
    shapes = input_shapes(args)
    config = {"models": args.models, "batches": args.batch, "runs": args.runs, "min_runs": args.min_runs,
              "budget_s": args.budget_s, "warmup": args.warmup, "device": args.device, "threads": args.threads,
              "opset": args.opset, "cold": args.cold, "seed": args.seed, "python": sys.executable,
              "opencv_ocl_device": args.opencv_ocl_device, "omp_passive": args.omp_passive}
    versions = {}
    rows = []
    tmp_root = tempfile.mkdtemp(prefix="compare-peers-")
    onnx_dir = os.path.abspath(args.onnx_dir) if args.onnx_dir else tmp_root
    os.makedirs(onnx_dir, exist_ok=True)
    interrupted = False
    try:
        for batch in args.batch:
            for model in args.models:
                shape = [batch] + list(shapes.get(model) or FALLBACK_INPUT.get(model, (3, 224, 224)))
                row = {"model": model, "batch": batch, "input": shape}
                rows.append(row)
                log(f"== {model} batch {batch} (input {'x'.join(map(str, shape))})")
                spec = {"model": model, "shape": shape, "seed": args.seed, "threads": args.threads,
                        "runs": args.runs, "min_runs": args.min_runs, "budget_s": args.budget_s,
                        "warmup": args.warmup, "opset": args.opset}

                log("  convscope ...")
                row["convscope"] = run_convscope(args, model, batch)

                if not args.skip_torch:
                    log("  pytorch ...")
                    torch_env = python_env({"OMP_WAIT_POLICY": "PASSIVE"} if args.omp_passive else None)
                    row["pytorch"], _ = run_worker("torch", spec, torch_env, args.timeout, "pytorch")
                    versions.update(row["pytorch"].get("versions", {}))

                if not args.skip_opencv:
                    base = os.path.join(onnx_dir, f"{model}_b{batch}_op{args.opset}_s{args.seed}")
                    spec.update(onnx=base + ".onnx", input_npy=base + ".input.npy", ref_npy=base + ".torch_out.npy")
                    if all(os.path.exists(spec[k]) for k in ("onnx", "input_npy", "ref_npy")):
                        row["export"] = {"ok": True, "reused": spec["onnx"]}
                    else:
                        log("  onnx export ...")
                        row["export"], _ = run_worker("export", spec, python_env(), args.timeout, "onnx export")
                        versions.update(row["export"].get("versions", {}))
                    if not row["export"].get("ok"):
                        fail = {"ok": False, "error": "ONNX export: " + row["export"]["error"]}
                        row["opencv_cpu"] = dict(fail)
                        row["opencv_opencl"] = None if args.skip_opencl else dict(fail)
                    else:
                        log("  opencv cpu ...")
                        row["opencv_cpu"], _ = run_worker("opencv", dict(spec, target="cpu"),
                                                          python_env({"OPENCV_LOG_LEVEL": "WARNING"}),
                                                          args.timeout, "opencv cpu")
                        versions.update(row["opencv_cpu"].get("versions", {}))
                        if not args.skip_opencl:
                            log("  opencv opencl ...")
                            extra = {"OPENCV_DNN_OPENCL_ALLOW_ALL_DEVICES": "1",
                                     "OPENCV_OPENCL_DEVICE": args.opencv_ocl_device,
                                     "OPENCV_LOG_LEVEL": "WARNING"}
                            if args.cold:
                                cache = tempfile.mkdtemp(prefix="ocl-cache-", dir=tmp_root)
                                extra.update(POCL_CACHE_DIR=os.path.join(cache, "pocl"),
                                             OPENCV_OPENCL_CACHE_DIR=os.path.join(cache, "opencv"))
                            res, err = run_worker("opencv", dict(spec, target="opencl"), python_env(extra),
                                                  args.timeout, "opencv opencl")
                            if res.get("ok") and OPENCV_OCL_FALLBACK in err:
                                res = {"ok": False, "error": "OpenCV refused the OpenCL device and ran on the CPU: "
                                       + last_lines("\n".join(ln for ln in err.splitlines()
                                                              if OPENCV_OCL_FALLBACK in ln)),
                                       "discarded": res}
                                log(f"  opencv opencl FAILED: {res['error']}")
                            row["opencv_opencl"] = res
                            versions.update(res.get("versions", {}) if res.get("ok") else {})
                ratios(row)
                brief = {k: (f"{row[k]['median_ms']:.1f} ms" if row.get(k) and row[k].get("ok") else
                             ("failed" if row.get(k) else "skipped"))
                         for k in ("convscope", "pytorch", "opencv_cpu", "opencv_opencl")}
                log("  " + ", ".join(f"{k} {v}" for k, v in brief.items()))
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: printing what was measured")
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)

    machine["loadavg_end"] = loadavg()
    machine["versions"] = versions
    print(render(machine, config, rows))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"machine": machine, "config": config, "results": rows, "interrupted": interrupted}, f,
                      indent=1)
        log(f"wrote {args.json_out}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
