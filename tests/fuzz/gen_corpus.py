#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<harness>/: small valid files
and edge cases for each parser. Standard library only (JPEG and BMP/TGA seeds
through Debian's libstb via ctypes when it is there). Deterministic: rerunning
it rewrites the same bytes.

    python3 tests/fuzz/gen_corpus.py [CORPUS_DIR]
"""
import ctypes
import ctypes.util
import json
import os
import struct
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")


def put(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------

def json_seeds():
    seeds = {
        "header.json": '{"__metadata__":{"format":"pt"},"conv.weight":{"dtype":"F32","shape":[4,2,3,3],'
                       '"data_offsets":[0,288]}}',
        "scalars.json": '[null,true,false,0,-0,1,-1,0.5,-2.5e-3,1E+308,1e-400,123456789012345678901234567890]',
        "int-limits.json": '[9223372036854775807,-9223372036854775808,9223372036854775808,'
                           '-9223372036854775809,18446744073709551615,18446744073709551616]',
        "escapes.json": r'{"a\"b":"\\ \/ \b \f \n \r \t","u":"\u00e9\u20ac\ud83d\ude00\u0000x","k\u0000":1}',
        "utf8.json": '{"grüße":"日本語 😀","e":""}',
        "nested.json": '{"a":[{"b":[[],{}]},[[[1]]]],"c":{"d":{"e":{"f":null}}}}',
        "empty-object.json": "{}",
        "empty-array.json": " [ ] \n",
        "string.json": '"top-level string"',
        "number.json": "42",
        "ws.json": ' \t\r\n{ "x" : [ 1 , 2 ] } \t\r\n',
        "depth16.json": "[" * 16 + "]" * 16,
        # invalid: each trips one check
        "bad-depth17.json": "[" * 17 + "]" * 17,
        "bad-duplicate.json": '{"a":1,"b":2,"a":3}',
        "bad-lone-low-surrogate.json": r'"\udc00"',
        "bad-high-surrogate.json": r'"\ud800x"',
        "bad-control.json": '"a\x01b"',
        "bad-utf8.json": b'"\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80"',
        "bad-trailing-comma.json": "[1,2,]",
        "bad-leading-zero.json": "[01]",
        "bad-trailing.json": "{} {}",
        "bad-unterminated.json": '{"a":"b',
        "bad-literal.json": "[tru]",
        "bad-exponent.json": "[1e]",
        "bad-escape.json": r'"\x"',
    }
    for name, text in seeds.items():
        put("json", name, text)


# --------------------------------------------------------------------------
# safetensors
# --------------------------------------------------------------------------

# The fuzz_safetensors graph: key -> shape.
GRAPH = [
    ("conv.weight", [4, 2, 3, 3]), ("conv.bias", [4]),
    ("bn.weight", [4]), ("bn.bias", [4]), ("bn.running_mean", [4]), ("bn.running_var", [4]),
    ("fc.weight", [3, 4]), ("fc.bias", [3]),
]
SIZES = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "U8": 1, "BOOL": 1, "F8_E4M3": 1}


def count(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def elem(dtype, i):
    """Bytes of element i: varied values including 0, negatives, subnormals, inf."""
    vals = [0.0, 1.0, -1.5, 0.25, 3.0e-8, -0.0, 65504.0, 1e-3]
    v = vals[i % len(vals)]
    if dtype == "F32":
        return struct.pack("<f", v)
    if dtype == "F16":
        return struct.pack("<e", v)
    if dtype == "BF16":
        return struct.pack("<f", v)[2:]
    if dtype in ("F64",):
        return struct.pack("<d", v)
    if dtype == "I64":
        return struct.pack("<q", i)
    return bytes([i & 1])


def safetensors(tensors, metadata=None, pad=16, gap=0, raw_header=None, hlen=None, tail=b""):
    """tensors: list of (key, dtype, shape). Returns file bytes."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for key, dtype, shape in tensors:
        blob = b"".join(elem(dtype, i) for i in range(count(shape)))
        begin = len(data)
        data += blob
        header[key] = {"dtype": dtype, "shape": shape, "data_offsets": [begin, len(data)]}
        data += b"\0" * gap
    text = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":")).encode()
    text += b" " * pad  # trailing spaces keep the JSON valid under small mutations
    n = len(text) if hlen is None else hlen
    return struct.pack("<Q", n) + text + data + tail


def safetensors_seeds():
    meta = {"format": "pt", "producer": "gen_corpus.py"}
    full = [(k, "F32", s) for k, s in GRAPH]
    put("safetensors", "graph-f32.safetensors", safetensors(full, meta))
    put("safetensors", "graph-f16.safetensors", safetensors([(k, "F16", s) for k, s in GRAPH]))
    put("safetensors", "graph-bf16.safetensors", safetensors([(k, "BF16", s) for k, s in GRAPH], gap=6))
    put("safetensors", "graph-mixed.safetensors",
        safetensors([(k, ["F32", "F16", "BF16"][i % 3], s) for i, (k, s) in enumerate(GRAPH)], meta))
    put("safetensors", "graph-counters-aux.safetensors",
        safetensors(full + [("bn.num_batches_tracked", "I64", []), ("aux1.fc.weight", "F32", [2, 2]),
                            ("aux2.conv.weight", "F16", [1, 1, 1, 1])], meta))
    # loads that must fail and leave the graph alone
    put("safetensors", "graph-missing.safetensors", safetensors(full[:-1]))
    put("safetensors", "graph-unexpected.safetensors", safetensors(full + [("extra.weight", "F32", [2])]))
    put("safetensors", "graph-wrong-shape.safetensors",
        safetensors([("conv.weight", "F32", [4, 2, 9])] + full[1:]))
    put("safetensors", "graph-u8.safetensors", safetensors([("conv.weight", "U8", [4, 2, 3, 3])] + full[1:]))
    # opens; reading some tensors is refused
    put("safetensors", "dtypes.safetensors",
        safetensors([("a", "F64", [2]), ("b", "I64", [1, 2]), ("c", "BOOL", [3]), ("d", "F8_E4M3", [2, 2]),
                     ("e", "U8", [5]), ("f", "F32", [])]))
    put("safetensors", "zero-size.safetensors",
        safetensors([("empty", "F32", [0, 1000000]), ("scalar", "F16", []), ("x", "BF16", [2, 0])]))
    put("safetensors", "rank8.safetensors", safetensors([("r8", "F32", [1, 2, 1, 2, 1, 1, 2, 1])]))
    put("safetensors", "empty-header.safetensors", safetensors([], pad=6))
    put("safetensors", "metadata-only.safetensors", safetensors([], meta, pad=2))
    # malformed
    put("safetensors", "bad-overlap.safetensors",
        safetensors([], raw_header=b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                    b'"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', tail=b"\0" * 16))
    put("safetensors", "bad-hlen-large.safetensors", safetensors(full, hlen=1 << 40))
    put("safetensors", "bad-hlen-past-end.safetensors", safetensors([("a", "F32", [1])], hlen=10000))
    put("safetensors", "bad-truncated-data.safetensors", safetensors(full)[:-10])
    put("safetensors", "bad-rank9.safetensors", safetensors([("r9", "F32", [1] * 9)]))
    put("safetensors", "bad-negative-dim.safetensors",
        safetensors([], raw_header=b'{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}'))
    put("safetensors", "bad-huge-dims.safetensors",
        safetensors([], raw_header=b'{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],'
                                   b'"data_offsets":[0,0]}}'))
    put("safetensors", "bad-dtype.safetensors",
        safetensors([], raw_header=b'{"a":{"dtype":"F33","shape":[],"data_offsets":[0,4]}}', tail=b"\0" * 4))
    put("safetensors", "bad-metadata.safetensors",
        safetensors([], raw_header=b'{"__metadata__":{"n":1}}'))
    put("safetensors", "bad-key-control.safetensors",
        safetensors([], raw_header=b'{"a\\u0001":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}',
                    tail=b"\0" * 4))
    put("safetensors", "bad-key-nul.safetensors",
        safetensors([], raw_header=b'{"__metadata__\\u0000":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}',
                    tail=b"\0" * 4))
    put("safetensors", "bad-short.safetensors", b"\x02\0\0\0")
    put("safetensors", "bad-not-object.safetensors", safetensors([], raw_header=b"[]"))


# --------------------------------------------------------------------------
# .npy
# --------------------------------------------------------------------------

def npy(descr, shape, data, version=1, fortran=False, dict_text=None, raw_shape=None):
    shp = raw_shape if raw_shape is not None else "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    d = dict_text if dict_text is not None else \
        "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, "True" if fortran else "False", shp)
    pre = 10 if version == 1 else 12
    d = d.encode("latin-1")
    total = pre + len(d) + 1
    d += b" " * ((64 - total % 64) % 64) + b"\n"
    if version == 1:
        head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(d))
    else:
        head = b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", len(d))
    return head + d + data


def floats(fmt, n):
    vals = [0.0, 1.0, -2.5, 1e-7, 3.25, -0.0, 100.0, 0.5]
    return b"".join(struct.pack("<" + fmt, vals[i % len(vals)]) for i in range(n))


def npy_seeds():
    put("npy", "v1-f4-2x3.npy", npy("<f4", [2, 3], floats("f", 6)))
    put("npy", "v1-f2-4.npy", npy("<f2", [4], floats("e", 4)))
    put("npy", "v1-f8-2x2.npy", npy("<f8", [2, 2], floats("d", 4)))
    put("npy", "v1-nchw-1x1x2x2.npy", npy("<f4", [1, 1, 2, 2], floats("f", 4)))
    put("npy", "v1-scalar.npy", npy("<f4", [], floats("f", 1)))
    put("npy", "v1-empty-0x5.npy", npy("<f4", [0, 5], b""))
    put("npy", "v1-rank8.npy", npy("<f4", [1, 2, 1, 1, 1, 1, 1, 2], floats("f", 4)))
    put("npy", "v2-f4-3.npy", npy("<f4", [3], floats("f", 3), version=2))
    put("npy", "v3-f4-2.npy", npy("<f4", [2], floats("f", 2), version=3))
    put("npy", "v1-py2-long.npy", npy("<f4", [], floats("f", 6), raw_shape="(2L, 3L)"))
    put("npy", "v1-double-quotes.npy",
        npy("", [], floats("f", 2), dict_text='{"descr": "<f4", "shape": (2,), "fortran_order": False}'))
    put("npy", "v1-no-trailing-comma.npy",
        npy("", [], floats("f", 2), dict_text="{'descr':'<f4','fortran_order':False,'shape':(1,2)}"))
    # refused
    put("npy", "bad-fortran.npy", npy("<f4", [2, 2], floats("f", 4), fortran=True))
    put("npy", "bad-big-endian.npy", npy(">f4", [2], floats("f", 2)))
    put("npy", "bad-int.npy", npy("<i4", [2], b"\0" * 8))
    put("npy", "bad-structured.npy",
        npy("", [], b"\0" * 8, dict_text="{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }"))
    put("npy", "bad-shape-not-tuple.npy", npy("<f4", [], floats("f", 3), raw_shape="(3)"))
    put("npy", "bad-negative.npy", npy("<f4", [], b"", raw_shape="(-1,)"))
    put("npy", "bad-rank9.npy", npy("<f4", [1] * 9, floats("f", 1)))
    put("npy", "bad-truncated.npy", npy("<f4", [4, 4], floats("f", 15)))
    put("npy", "bad-extra-data.npy", npy("<f4", [2], floats("f", 3)))
    put("npy", "bad-huge-shape.npy", npy("<f4", [], b"", raw_shape="(4611686018427387904, 4)"))
    put("npy", "bad-dup-key.npy",
        npy("", [], b"", dict_text="{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (0,)}"))
    put("npy", "bad-version.npy", b"\x93NUMPY\x04\x00" + b"\x10\x00" + b"{}".ljust(16))
    put("npy", "bad-hlen.npy", b"\x93NUMPY\x01\x00\xff\xff{'descr': '<f4'}")
    put("npy", "bad-magic.npy", b"\x93NUMPX\x01\x00\x00\x00")


# --------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------

def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png(w, h, color_type, depth=8, rows=None, plte=None, trns=None, ihdr_w=None, ihdr_h=None, interlace=0):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    bpp_bits = channels * depth
    if rows is None:
        row_bytes = (w * bpp_bits + 7) // 8
        rows = b"".join(b"\0" + bytes((x * 37 + y * 91) & 0xFF for x in range(row_bytes)) for y in range(h))
    ihdr = struct.pack(">IIBBBBB", ihdr_w or w, ihdr_h or h, depth, color_type, 0, 0, interlace)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    if plte:
        out += png_chunk(b"PLTE", plte)
    if trns:
        out += png_chunk(b"tRNS", trns)
    return out + png_chunk(b"IDAT", zlib.compress(rows, 9)) + png_chunk(b"IEND", b"")


def stb_writers():
    name = ctypes.util.find_library("stb") or "libstb.so.0"
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def pixels(w, h, comp):
    return bytes(((x * 53 + y * 29 + c * 101) & 0xFF) for y in range(h) for x in range(w) for c in range(comp))


def via_stb(lib, fn, w, h, comp, *extra):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "img").encode()
        buf = ctypes.create_string_buffer(pixels(w, h, comp))
        f = getattr(lib, fn)
        if fn == "stbi_write_png":
            ok = f(p, w, h, comp, buf, w * comp)
        else:
            ok = f(p, w, h, comp, buf, *extra)
        if not ok:
            raise RuntimeError(fn + " failed")
        with open(p, "rb") as fh:
            return fh.read()


def gif(w, h):
    # GIF89a, 2-colour global table, one image, LZW min code size 2, codes: clear, 0s, end
    lzw = bytes([0x02, 0x02, 0x44, 0x01, 0x00])  # tiny valid stream for a few pixels
    return (b"GIF89a" + struct.pack("<HH", w, h) + b"\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
            + b"\x21\xf9\x04\x01\x00\x00\x00\x00"  # graphic control: transparent index 0
            + b"\x2c" + struct.pack("<HHHH", 0, 0, w, h) + b"\x00" + lzw + b"\x3b")


def image_seeds():
    put("image", "gray-4x4.png", png(4, 4, 0))
    put("image", "rgb-5x3.png", png(5, 3, 2))
    put("image", "rgba-2x7.png", png(2, 7, 6))
    put("image", "graya-3x3.png", png(3, 3, 4))
    put("image", "gray16-3x2.png", png(3, 2, 0, depth=16))
    put("image", "rgb16-2x2.png", png(2, 2, 2, depth=16))
    put("image", "gray1-9x2.png", png(9, 2, 0, depth=1))
    put("image", "palette-4x3.png", png(4, 3, 3, plte=bytes(range(12)), trns=b"\x00\x80"))
    put("image", "palette2-5x2.png", png(5, 2, 3, depth=2, plte=bytes(range(12))))
    put("image", "tall-1x300.png", png(1, 300, 0))
    put("image", "wide-300x1.png", png(300, 1, 2))
    put("image", "one-1x1.png", png(1, 1, 2))
    put("image", "big-ihdr-20000x1.png", png(1, 1, 0, ihdr_w=20000))   # refused before decoding
    put("image", "big-ihdr-16384x16385.png", png(1, 1, 0, ihdr_w=16384, ihdr_h=16385))
    put("image", "bad-crc.png", png(2, 2, 0)[:-5] + b"\0\0\0\0\0")
    put("image", "truncated.png", png(8, 8, 2)[:40])
    put("image", "gray-2x3.pgm", b"P5\n2 3\n255\n" + bytes(range(6)))
    put("image", "rgb-2x2.ppm", b"P6\n# comment\n2 2\n255\n" + pixels(2, 2, 3))
    put("image", "big-60000x60000.ppm", b"P6\n60000 60000\n255\n" + b"\0" * 12)
    put("image", "tiny-2x2.gif", gif(2, 2))
    put("image", "hdr-2x1.hdr", b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 2\n" + b"\x80\x40\x20\x81" * 2)
    put("image", "psd-1x1.psd", b"8BPS\x00\x01" + b"\0" * 6 + b"\x00\x03" + struct.pack(">II", 1, 1)
        + b"\x00\x08\x00\x03" + b"\0" * 12 + b"\x00\x00" + b"\x10\x20\x30")
    lib = stb_writers()
    if lib is None:
        print("gen_corpus.py: libstb not found: no JPEG/BMP/TGA seeds", file=sys.stderr)
        return
    put("image", "rgb-8x8.jpg", via_stb(lib, "stbi_write_jpg", 8, 8, 3, 90))
    put("image", "gray-3x9.jpg", via_stb(lib, "stbi_write_jpg", 3, 9, 1, 50))
    put("image", "rgb-17x5.jpg", via_stb(lib, "stbi_write_jpg", 17, 5, 3, 100))
    put("image", "rgb-3x3.bmp", via_stb(lib, "stbi_write_bmp", 3, 3, 3))
    put("image", "rgba-2x2.bmp", via_stb(lib, "stbi_write_bmp", 2, 2, 4))
    put("image", "rgb-4x2.tga", via_stb(lib, "stbi_write_tga", 4, 2, 3))
    put("image", "gray-3x1.tga", via_stb(lib, "stbi_write_tga", 3, 1, 1))


# --------------------------------------------------------------------------
# Command line: a selector byte (0 run, 1 info, 2 bench, 3 helpers), then
# NUL-separated arguments.
# --------------------------------------------------------------------------

def cli_seeds():
    def args(sel, *a):
        return bytes([sel]) + b"\0".join(x.encode() for x in a)

    put("cli", "run-image.bin", args(0, "resnet18", "cat.jpg", "dog.png", "--top", "3", "--device=cpu"))
    put("cli", "run-npy.bin", args(0, "lenet5", "--input-npy", "x.npy", "--output-npy=y.npy", "--json", "-q"))
    put("cli", "run-all.bin", args(0, "googlenet", "a.png", "--weights", "w.safetensors", "--labels=l.txt",
                                   "--profile", "--dump", "d", "--dump-png=p", "--quiet", "--top=1000000"))
    put("cli", "run-help.bin", args(0, "-h"))
    put("cli", "run-missing-value.bin", args(0, "resnet18", "a.png", "--top"))
    put("cli", "run-bad-top.bin", args(0, "resnet18", "a.png", "--top", "0x10"))
    put("cli", "run-both.bin", args(0, "resnet18", "a.png", "--input-npy", "x.npy"))
    put("cli", "run-dash.bin", args(0, "-", "-", "--unknown"))
    put("cli", "info.bin", args(1, "lenet5", "--input", "32x48", "--keys"))
    put("cli", "info-square.bin", args(1, "vgg11", "--input=64"))
    put("cli", "info-bad.bin", args(1, "vgg11", "--input", "0x16385"))
    put("cli", "bench.bin", args(2, "resnet18", "vgg11", "--batch=4", "--runs", "3", "--cold", "--json",
                                 "--device", "0"))
    put("cli", "bench-bad.bin", args(2, "alexnet", "--batch", "4097", "--runs=-1"))
    put("cli", "helpers.bin", args(3, "224x224", "16384x1", "16385", "-5", " 7x+7", "12x", "x12", "--runs=5",
                                   "2147483648", "--top"))


# --------------------------------------------------------------------------
# IDX (fuzz_idx): [flags][split, 2 bytes big-endian][file A][file B]
# --------------------------------------------------------------------------

import gzip as _gzip


def idx(dims, data=None, magic_type=0x08, ndim=None, raw_dims=None):
    """An IDX file: 00 00 type ndim, big-endian sizes, then the bytes."""
    nd = len(dims) if ndim is None else ndim
    head = bytes([0, 0, magic_type, nd]) + b"".join(struct.pack(">I", d) for d in (raw_dims or dims))
    if data is None:
        n = 1
        for d in dims:
            n *= d
        data = bytes((i * 37 + 11) & 0xFF for i in range(n))
    return head + data


def gz(data):
    return _gzip.compress(data, compresslevel=6, mtime=0)


def idx_input(a, b=b"", flags=0):
    """Harness input: A (images) and B (labels); flags bit 0/1: the harness
    gzips A/B, bits 2-4: bytes cut off its gzip streams, bit 5: stored,
    bits 6-7: extra channels for cs_dataset_input."""
    return bytes([flags]) + struct.pack(">H", len(a)) + a + b


def idx_seeds():
    images = idx([2, 3, 3])
    labels = idx([2], bytes([3, 7]))
    only = lambda f, flags=0: bytes([flags, 0xFF, 0xFF]) + f  # A only, B empty
    put("idx", "pair-plain.bin", idx_input(images, labels))
    put("idx", "pair-harness-gzip.bin", idx_input(images, labels, flags=3))
    put("idx", "pair-harness-gzip-stored.bin", idx_input(images, labels, flags=3 | 32))
    put("idx", "pair-gz-files.bin", idx_input(gz(images), gz(labels)))
    put("idx", "pair-mixed.bin", idx_input(gz(images), labels))
    mnist = idx([1, 28, 28])
    put("idx", "pair-28x28.bin", idx_input(mnist, idx([1], b"\x09"), flags=64))
    put("idx", "pair-28x28-gzip.bin", idx_input(mnist, idx([1], b"\x02"), flags=3 | 128))
    put("idx", "pair-empty.bin", idx_input(idx([0, 28, 28]), idx([0])))
    put("idx", "pair-swapped.bin", idx_input(labels, images))
    put("idx", "pair-count-mismatch.bin", idx_input(images, idx([3], b"\0\1\2")))
    put("idx", "images.bin", only(images))
    put("idx", "labels.bin", only(labels))
    put("idx", "images-gz.bin", only(gz(images)))
    put("idx", "rank2.bin", only(idx([2, 5])))
    # truncated and trailing
    put("idx", "trunc-data.bin", idx_input(images[:-3], labels))
    put("idx", "trunc-header.bin", only(images[:9]))
    put("idx", "trunc-magic.bin", only(images[:3]))
    put("idx", "trailing.bin", idx_input(images + b"\0", labels))
    put("idx", "trunc-gz-data.bin", only(gz(images)[:-12]))
    put("idx", "trunc-gz-trailer.bin", only(gz(images)[:-4]))
    put("idx", "harness-gz-cut.bin", idx_input(images, labels, flags=3 | (3 << 2)))
    put("idx", "gz-two-members.bin", only(gz(images[:10]) + gz(images[10:])))
    put("idx", "gz-trailing-garbage.bin", only(gz(images) + b"\0\0\0\0garbage"))
    put("idx", "gz-bad-crc.bin", only(gz(images)[:-8] + b"\0\0\0\0" + gz(images)[-4:]))
    put("idx", "gz-header-only.bin", only(b"\x1f\x8b\x08\x00\0\0\0\0\0\x03"))
    # other types and ranks
    put("idx", "type-float.bin", only(idx([2, 2, 2], b"\0" * 32, magic_type=0x0D)))
    put("idx", "type-sbyte.bin", only(idx([4], b"\xff\x01\x00\x80", magic_type=0x09)))
    put("idx", "type-int.bin", only(idx([1], b"\0\0\0\1", magic_type=0x0C)))
    put("idx", "rank0.bin", only(bytes([0, 0, 8, 0])))
    put("idx", "rank4.bin", only(idx([1, 1, 1, 1])))
    put("idx", "bad-magic.bin", only(b"\x01\x00\x08\x01\0\0\0\1\x05"))
    # sizes at and over the limits (the data is missing: truncated after them)
    put("idx", "items-limit.bin", only(idx([10000000], b"")))
    put("idx", "items-over.bin", only(idx([10000001], b"")))
    put("idx", "dim-limit.bin", only(idx([1, 4096, 4096], b"")))
    put("idx", "dim-over.bin", only(idx([1, 4097, 1], b"")))
    put("idx", "bytes-over.bin", only(idx([10000000, 4096, 4096], b"")))
    put("idx", "bytes-at-limit.bin", only(idx([256, 4096, 4096], b"")))
    put("idx", "dim-ffffffff.bin", only(idx([0xFFFFFFFF], b"")))
    # a small gzip bomb: 200 KB of zeros behind a header that promises them
    bomb = idx([200, 32, 32], b"\0" * (200 * 32 * 32))
    put("idx", "gz-zeros.bin", only(gz(bomb)))


# --------------------------------------------------------------------------
# Viewer tours (fuzz_tour): the input is the tour file
# --------------------------------------------------------------------------

def tour_seeds():
    tours = os.path.join(HERE, "..", "..", "assets", "tours")
    if os.path.isdir(tours):
        for name in sorted(os.listdir(tours)):
            if name.endswith(".tour"):
                with open(os.path.join(tours, name), "rb") as f:
                    put("tour", "shipped-" + name, f.read())
    put("tour", "every-key.tour",
        "# every key\ntitle A tour\n\nmodel lenet5\nimage fashion-ankle-boot.png\nlayer c1\n"
        "caption first line\ncaption joined line\nzoom 3\nscope channel\n\n"
        "layer 4\nscope layer\n\nlayer s2\nscope block\nzoom -1\n\nimage /abs/path.png\nscope global\n")
    put("tour", "minimal.tour", "model resnet18\n")
    put("tour", "two-models.tour", "model lenet5\nlayer c1\n\nmodel resnet18\nlayer layer1.0\n")
    put("tour", "comments-blanks.tour",
        "  # indented comment\n\n\n   \t\nmodel vgg11\n# between keys\nlayer 0\n\t\n\n\n\nlayer 1\n")
    put("tour", "crlf.tour", "title T\r\n\r\nmodel lenet5\r\nlayer c1\r\ncaption x\r\n\r\nlayer s2\r\n")
    put("tour", "tabs.tour", "model\tlenet5\nlayer\t\tc1\ncaption\t a \t b \t\n")
    put("tour", "no-newline-at-end.tour", "model lenet5\nlayer c1")
    put("tour", "key-no-value.tour", "model lenet5\nlayer\ncaption\nzoom\n")
    put("tour", "zoom-values.tour", "model lenet5\nzoom 0\n\nzoom 5\n\nzoom -1\n\nzoom 2147483647\n")
    for i, z in enumerate(["-5", "abc", "99999999999", "2147483648", "7x", "", "+3 4"]):
        put("tour", "bad-zoom-%d.tour" % i, "model lenet5\nzoom %s\n" % z)
    put("tour", "layer-values.tour", "model lenet5\nlayer -1\n\nlayer 99999999999\n\nlayer 2147483648\n")
    put("tour", "image-relative.tour", "model lenet5\nimage ../x/../y.png\n\nimage .\n\nimage 3\n")
    put("tour", "title-only.tour", "title Nothing else\n")
    put("tour", "empty.tour", "")
    put("tour", "comment-only.tour", "# nothing\n")
    put("tour", "no-first-model.tour", "layer c1\n\nmodel lenet5\n")
    put("tour", "bad-key.tour", "model lenet5\ncolour red\n")
    put("tour", "bad-scope.tour", "model lenet5\nscope everything\n")
    put("tour", "model-empty-later.tour", "model lenet5\n\nmodel\nlayer c1\n")
    put("tour", "nul-byte.tour", b"model lenet5\nlayer c\x001\ncaption a\x00b\n")
    put("tour", "many-steps.tour", "model lenet5\n" + "layer c1\n\n" * 300)
    put("tour", "long-values.tour",
        "title " + "T" * 300 + "\nmodel " + "m" * 100 + "\nlayer " + "l" * 200 + "\nimage " + "i" * 1100 +
        "\n" + ("caption " + "c" * 400 + "\n") * 4)
    # a line longer than the parser's 2048-byte line buffer, "model" where it splits
    put("tour", "long-line.tour", "model lenet5\ncaption " + "x" * (2047 - 8) + "model resnet18\n")
    put("tour", "utf8.tour", "title Grüße 😀\nmodel lenet5\ncaption Schön — “quoted”\n")


def main():
    json_seeds()
    safetensors_seeds()
    npy_seeds()
    image_seeds()
    cli_seeds()
    idx_seeds()
    tour_seeds()
    for h in sorted(os.listdir(OUT)):
        files = os.listdir(os.path.join(OUT, h))
        size = sum(os.path.getsize(os.path.join(OUT, h, f)) for f in files)
        print("%-12s %3d files %7d bytes" % (h, len(files), size))


if __name__ == "__main__":
    main()
