#!/usr/bin/env python3
"""Makes the JPEG XL test files and their reference decodes into DIR (default
target/jxl-fixtures) from corpus photos: coded by cjxl, decoded by djxl (libjxl, Debian's
libjxl-tools), sources cut with Pillow. Does nothing when DIR is already up to date with this
script.

  make-fixtures.py [DIR]
"""
import hashlib
import os
import subprocess
import sys

from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.environ.get("THUMBNAIL_CORPUS", os.path.join(HERE, "..", "..", "..", "shared", "corpus"))
# A size the reduction for a 100x100 thumbnail (a factor of 4) divides exactly, as for HEIF.
SIZE = (1800, 1200)


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make(out):
    photos = os.path.join(CORPUS, "photos")
    photo = Image.open(os.path.join(photos, "camera-2164x1626.jpg")).convert("RGB").crop((0, 0) + SIZE)
    photo.save(f"{out}/photo.png")
    alpha = Image.new("L", SIZE, 0)
    ImageDraw.Draw(alpha).ellipse((150, 100, 1650, 1100), fill=255)
    rgba = photo.copy()
    rgba.putalpha(alpha)
    rgba.save(f"{out}/photo-alpha.png")
    photo.convert("L").save(f"{out}/photo-gray.png")
    small = photo.resize((600, 400), Image.LANCZOS)
    small.save(f"{out}/small.png")
    # Lossy (VarDCT, XYB), with alpha, gray; lossless (modular); a JPEG transcoded losslessly,
    # with EXIF orientation 6 carried into the codestream; an animation of two frames.
    run("cjxl", "-d", "1", f"{out}/photo.png", f"{out}/lossy.jxl")
    run("cjxl", "-d", "1", f"{out}/photo-alpha.png", f"{out}/alpha.jxl")
    run("cjxl", "-d", "1", f"{out}/photo-gray.png", f"{out}/gray.jxl")
    run("cjxl", "-d", "0", f"{out}/small.png", f"{out}/lossless.jxl")
    run("cjxl", os.path.join(photos, "canon-hdr-2048x1536-orient6.jpg"), f"{out}/jpeg-orient6.jxl")
    frames = [small, small.transpose(Image.FLIP_LEFT_RIGHT)]
    frames[0].save(f"{out}/anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    run("cjxl", "-d", "1", f"{out}/anim.gif", f"{out}/anim.jxl")
    for name in ["lossy", "alpha", "gray", "lossless", "jpeg-orient6"]:
        run("djxl", f"{out}/{name}.jxl", f"{out}/{name}-ref.png")
    # 48 MP, for the memory budget and the side-by-side figures.
    big = Image.open(os.path.join(photos, "olympus-ep3-museum-4032x3024.jpg")).convert("RGB")
    big.resize((8064, 6048), Image.BILINEAR).save(f"{out}/big.png", compress_level=1)
    run("cjxl", "-d", "1", "-e", "3", f"{out}/big.png", f"{out}/big-48mp.jxl")
    os.remove(f"{out}/big.png")


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "target", "jxl-fixtures"))
    digest = hashlib.sha256(open(os.path.abspath(__file__), "rb").read()).hexdigest()
    stamp = os.path.join(out, "STAMP")
    if os.path.exists(stamp) and open(stamp).read() == digest:
        return 0
    os.makedirs(out, exist_ok=True)
    make(out)
    open(stamp, "w").write(digest)
    print(f"make-fixtures.py: JPEG XL fixtures in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
