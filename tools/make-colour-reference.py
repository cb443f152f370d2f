#!/usr/bin/env python3
"""Writes thumbnail-core/tests/reference/colour.json: the reference the colour test compares to.

For every colour-managed (ICC) or CMYK file in the corpus's conformance set, the whole image is
converted to sRGB by LittleCMS 2 (Pillow's ImageCms; perceptual intent, like our moxcms
transform) or, for CMYK without a profile, by Pillow's naive complement conversion; alpha is
composited onto white; and the mean colour of each cell of a 4x4 grid is recorded.

An independent CMS on the full-resolution image, averaged over big cells, is a yardstick that
our resampling and encoding barely move, so a wrong profile, a missed inversion or a swapped
channel shows up while CMS rounding differences stay within a few levels.

Run with the peer-benchmark Python (it has Pillow): ~/.cache/thumbnail-bench/venv/bin/python
"""
import io
import json
import sys
from pathlib import Path

from PIL import Image, ImageCms

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
FILES = [
    "conformance/icc/adobergb1998-2000x1072.jpg",
    "conformance/icc/display-p3-8x8.png",
    "conformance/icc/generic-rgb-icc-550x740.jpg",
    "conformance/icc/prophoto-1x1.png",
    "conformance/cmyk/cmyk-adobe0-32x32.jpg",
    "conformance/cmyk/cmyk-subsampled-256x256.jpg",
    "conformance/cmyk/ycck-no-icc-500x333.jpg",
    "conformance/cmyk/ycck-swop-icc-500x333.jpg",
    "conformance/gray/gray-gamma22-icc-400x267.jpg",
    "conformance/png/16bit-rgb-icc-monkey16.png",
    "conformance/tiff/cmyk-fogra.tif",
]
GRID = 4


def to_srgb(im):
    icc = im.info.get("icc_profile")
    if icc:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        dst = ImageCms.createProfile("sRGB")
        alpha = im.getchannel("A") if im.mode in ("RGBA", "LA") else None
        base = im.convert("RGB") if im.mode in ("RGBA", "P") else im
        base = base.convert("L") if im.mode == "LA" else base
        out = ImageCms.profileToProfile(base, src, dst, outputMode="RGB",
                                        renderingIntent=ImageCms.Intent.PERCEPTUAL)
        if alpha is not None:
            out.putalpha(alpha)
        return out, "lcms"
    return im.convert("RGBA" if "A" in im.mode else "RGB"), "naive"


def cells(im):
    im = im.convert("RGBA")
    flat = Image.new("RGBA", im.size, (255, 255, 255, 255))
    flat.alpha_composite(im)
    px = flat.convert("RGB").load()
    w, h = flat.size
    out = []
    for gy in range(GRID):
        for gx in range(GRID):
            x0, x1 = gx * w // GRID, max((gx + 1) * w // GRID, gx * w // GRID + 1)
            y0, y1 = gy * h // GRID, max((gy + 1) * h // GRID, gy * h // GRID + 1)
            s = [0.0, 0.0, 0.0]
            for y in range(y0, min(y1, h)):
                for x in range(x0, min(x1, w)):
                    for i, v in enumerate(px[x, y]):
                        s[i] += v
            n = max(1, (min(x1, w) - x0) * (min(y1, h) - y0))
            out.append([round(v / n, 2) for v in s])
    return out


def main():
    ref = {}
    for rel in FILES:
        with Image.open(CORPUS / rel) as im:
            im.load()
            srgb, how = to_srgb(im)
            ref[rel] = {"conversion": how, "mode": im.mode, "cells": cells(srgb)}
            print(rel, im.mode, how, file=sys.stderr)
    out = ROOT / "thumbnail-core/tests/reference/colour.json"
    lines = [f' "{rel}": {json.dumps(v)}' for rel, v in ref.items()]
    out.write_text('{"grid": %d, "files": {\n%s\n}}\n' % (GRID, ",\n".join(lines)))


if __name__ == "__main__":
    main()
