#!/usr/bin/env python3
"""Makes the HEIC test files and their reference decodes into DIR (default
target/heif-fixtures), from a corpus photo: coded by heif-enc (x265), containers for grids,
transforms and hostile variants by heifmux.py, references by heif-convert (libheif) or, for
colour the references cannot show (Display P3 and HDR by nclx alone), computed here with numpy
from the documented formulas. Needs heif-enc and heif-convert (Debian's libheif-examples), avifenc and avifdec
(libavif-bin),
Pillow and numpy. Does nothing when DIR is already up to date with this script.

  make-fixtures.py [DIR]
"""
import hashlib
import os
import subprocess
import sys
import zlib
import struct

import numpy as np
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import heifmux  # noqa: E402

CORPUS = os.environ.get("THUMBNAIL_CORPUS", os.path.join(HERE, "..", "..", "..", "shared", "corpus"))
# 1800x1200: a 4x3 grid of 512 tiles cropped on the right and bottom, and a size that the
# reduction for a 100x100 thumbnail (a factor of 4) divides exactly, so a turned or mirrored
# image reduces to the same cells as its reference.
SIZE = (1800, 1200)


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def png16(pixels, path):
    """An RGB 16-bit PNG (Pillow writes no 16-bit RGB)."""
    h, w, _ = pixels.shape
    rows = pixels.astype(">u2")
    raw = b"".join(b"\0" + rows[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def srgb_to_linear(v):
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(v):
    v = np.clip(v, 0, 1)
    return np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)


def pq_encode(nits):
    m1, m2, c1, c2, c3 = 0.1593017578125, 78.84375, 0.8359375, 18.8515625, 18.6875
    y = np.clip(nits / 10000.0, 0, 1) ** m1
    return ((c1 + c2 * y) / (1 + c3 * y)) ** m2


SRGB_TO_2020 = np.array([[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114], [0.0164, 0.0880, 0.8956]])
P3_TO_SRGB = np.array([[1.2249, -0.2247, 0.0], [-0.0420, 1.0419, 0.0], [-0.0197, -0.0786, 1.0979]])


def avifenc_takes_q():
    """avifenc 0.11 sets quality by quantizers; later ones take -q."""
    help_text = subprocess.run(["avifenc", "--help"], capture_output=True, text=True).stdout
    return "-q,--qcolor" in help_text


def make(out):
    photo = Image.open(os.path.join(CORPUS, "photos", "camera-2164x1626.jpg")).convert("RGB")
    photo = photo.crop((0, 0) + SIZE)
    photo.save(f"{out}/photo.png")
    alpha = Image.new("L", SIZE, 0)
    ImageDraw.Draw(alpha).ellipse((150, 100, 1650, 1100), fill=255)
    rgba = photo.copy()
    rgba.putalpha(alpha)
    rgba.save(f"{out}/photo-alpha.png")

    def grid(src, name, tile=512, enc="-q 70"):
        heifmux.main_args(["grid", src, f"{out}/{name}.heic", "--tile", str(tile), "--enc", enc])
    grid(f"{out}/photo.png", "grid")
    grid(f"{out}/photo-alpha.png", "grid-alpha")
    run("heif-enc", "-q", "70", "-o", f"{out}/single.heic", f"{out}/photo.png")
    run("heif-enc", "-q", "70", "-o", f"{out}/single-alpha.heic", f"{out}/photo-alpha.png")
    for name, args in [("irot1", ["--irot", "1"]), ("irot2", ["--irot", "2"]), ("irot3", ["--irot", "3"]),
                       ("imir0", ["--imir", "0"]), ("imir1", ["--imir", "1"]),
                       ("irot1-imir1", ["--irot", "1", "--imir", "1"]),
                       ("clap", ["--clap", "1600", "1000"])]:
        heifmux.main_args(["transform", f"{out}/single.heic", f"{out}/{name}.heic", *args])
    px = np.asarray(photo).astype(np.float64) / 255.0
    png16(np.round(px * 65535), f"{out}/photo16.png")
    run("heif-enc", "-b", "10", "-q", "70", "-o", f"{out}/ten-bit.heic", f"{out}/photo16.png")
    for name in ["grid", "grid-alpha", "single", "single-alpha", "irot1", "irot2", "irot3", "imir0",
                 "imir1", "irot1-imir1", "clap", "ten-bit"]:
        run("heif-convert", f"{out}/{name}.heic", f"{out}/{name}-ref.png")
    iphone = os.path.join(CORPUS, "conformance", "other", "iphone.heic")
    run("heif-convert", iphone, f"{out}/iphone-ref.png")

    # Display P3 by nclx alone: the photo's values taken as P3; the reference converts them.
    nclx = ["--matrix_coefficients", "6", "--full_range_flag", "1"]
    run("heif-enc", "-q", "90", *nclx, "--colour_primaries", "12", "--transfer_characteristic", "13",
        "-o", f"{out}/p3-coded.heic", f"{out}/photo.png")
    # heif-enc 1.15 codes with the nclx it is given but writes no colr box: add it.
    heifmux.main_args(["transform", f"{out}/p3-coded.heic", f"{out}/p3.heic", "--nclx", "12", "13", "6", "1"])
    run("heif-convert", f"{out}/p3-coded.heic", f"{out}/p3-decoded.png")
    p3 = np.asarray(Image.open(f"{out}/p3-decoded.png").convert("RGB")) / 255.0
    srgb = linear_to_srgb(srgb_to_linear(p3) @ P3_TO_SRGB.T)
    Image.fromarray(np.round(srgb * 255).astype(np.uint8)).save(f"{out}/p3-ref.png")

    # HDR: the photo as display light with its white at 203 nits, PQ- or HLG-coded in BT.2020;
    # the reference is the photo through the tone curve thumbnail documents.
    lin = srgb_to_linear(px)
    bt2020 = lin @ SRGB_TO_2020.T
    png16(np.round(pq_encode(bt2020 * 203.0) * 65535), f"{out}/pq16.png")
    run("heif-enc", "-b", "10", "-q", "90", "--matrix_coefficients", "9", "--full_range_flag", "1",
        "--colour_primaries", "9", "--transfer_characteristic", "16", "-o", f"{out}/pq-coded.heic", f"{out}/pq16.png")
    heifmux.main_args(["transform", f"{out}/pq-coded.heic", f"{out}/pq.heic", "--nclx", "9", "16", "9", "1"])
    w2 = (1000 / 203) ** 2
    toned = lin * (1 + lin / w2) / (1 + lin)
    Image.fromarray(np.round(linear_to_srgb(toned) * 255).astype(np.uint8)).save(f"{out}/pq-ref.png")

    # AVIF, coded by avifenc (libaom): a grid, alpha, 10-bit, a rotation; references by avifdec
    # (which applies no transforms: the rotation is checked against libheif's turned photo).
    avifenc = ["avifenc", "-s", "8", "-q", "70"] if avifenc_takes_q() else ["avifenc", "-s", "8"]
    run(*avifenc, "-g", "3x2", f"{out}/photo.png", f"{out}/avif-grid.avif")
    run(*avifenc, f"{out}/photo-alpha.png", f"{out}/avif-alpha.avif")
    run(*avifenc, "-d", "10", f"{out}/photo16.png", f"{out}/avif-ten-bit.avif")
    run(*avifenc, "--irot", "1", f"{out}/photo.png", f"{out}/avif-irot1.avif")
    for name in ["avif-grid", "avif-alpha", "avif-ten-bit"]:
        run("avifdec", f"{out}/{name}.avif", f"{out}/{name}-ref.png")
    avif = os.path.join(CORPUS, "conformance", "other", "pitm-4096x800.avif")
    run("avifdec", avif, f"{out}/pitm-ref.png")

    # Hostile: a grid claiming far more than its tiles make; a 100 MP grid of one repeated
    # tile; a grid over the pixel limit; more items than allowed.
    tile = f"{out}/tile.heic"
    photo.crop((0, 0, 512, 512)).save(f"{out}/tile.png")
    run("heif-enc", "-q", "70", "-o", tile, f"{out}/tile.png")
    heifmux.main_args(["bad-grid", tile, f"{out}/lying-grid.heic", "--columns", "1", "--rows", "1",
                       "--width", "60000", "--height", "60000"])
    heifmux.main_args(["bad-grid", tile, f"{out}/grid-100mp.heic", "--columns", "20", "--rows", "19",
                       "--width", "10240", "--height", "9728"])
    heifmux.main_args(["bad-grid", tile, f"{out}/grid-over-limit.heic", "--columns", "40", "--rows", "40",
                       "--width", "20480", "--height", "20480"])
    heifmux.main_args(["many-items", tile, f"{out}/many-items.heic", "--count", "20000"])


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "target", "heif-fixtures"))
    digest = hashlib.sha256()
    for name in ("make-fixtures.py", "heifmux.py"):
        digest.update(open(os.path.join(HERE, name), "rb").read())
    stamp = os.path.join(out, "STAMP")
    if os.path.exists(stamp) and open(stamp).read() == digest.hexdigest():
        return 0
    os.makedirs(out, exist_ok=True)
    make(out)
    open(stamp, "w").write(digest.hexdigest())
    print(f"make-fixtures.py: HEIC fixtures in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
