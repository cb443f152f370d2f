#!/usr/bin/env python3
"""Converts a folder of photos into one folder per other input format, for the side-by-side
benchmark on formats other than JPEG (peers.py --corpus DIR/png, ...).

Each photo is decoded once with its EXIF orientation applied (so every tool sees the same
upright pixels, whatever it does with orientation), and written as:
  png/   8-bit RGB PNG, zlib level 6, ICC profile kept
  webp/  lossy WebP, quality 90, ICC profile kept
  tiff/  8-bit RGB TIFF, Adobe deflate, ICC profile kept
  gif/   GIF with an adaptive 256-colour palette (GIF has no ICC: converted to sRGB first)

Run with the peer-benchmark Python (it has Pillow):
  ~/.cache/thumbnail-bench/venv/bin/python tools/make-format-folders.py ../shared/corpus/photos /tmp/formats
"""
import io
import sys
from pathlib import Path

from PIL import Image, ImageCms, ImageOps


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: make-format-folders.py PHOTOS_DIR OUT_DIR")
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    for sub in ("png", "webp", "tiff", "gif"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    photos = sorted(p for p in src.iterdir() if p.suffix.lower() in {".jpg", ".jpeg"})
    if not photos:
        sys.exit(f"no JPEG photos in {src}")
    for p in photos:
        im = Image.open(p)
        icc = im.info.get("icc_profile")
        im = ImageOps.exif_transpose(im).convert("RGB")
        kw = {"icc_profile": icc} if icc else {}
        im.save(out / "png" / f"{p.stem}.png", compress_level=6, **kw)
        im.save(out / "webp" / f"{p.stem}.webp", quality=90, **kw)
        im.save(out / "tiff" / f"{p.stem}.tif", compression="tiff_adobe_deflate", **kw)
        srgb = im
        if icc:
            srgb = ImageCms.profileToProfile(
                im, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB")
            )
        srgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=256).save(out / "gif" / f"{p.stem}.gif")
        print(p.name)


if __name__ == "__main__":
    main()
