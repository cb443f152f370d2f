#!/usr/bin/env python3
"""Builds HEIF files that heif-enc (libheif 1.15, Debian's) cannot: grids of tiles, irot/imir/clap
transforms, and hostile variants, from pictures heif-enc coded. The coded HEVC is heif-enc's;
only the container is written here.

  heifmux.py grid SRC.png OUT.heic --tile N [--enc 'HEIF-ENC ARGS']   tiles of SRC, each coded by heif-enc
  heifmux.py transform IN.heic OUT.heic [--irot Q] [--imir AXIS] [--clap W H] [--nclx P T M F]
  heifmux.py bad-grid IN.heic OUT.heic --columns C --rows R --width W --height H
                                      a grid of IN's picture repeated, claiming W x H
  heifmux.py many-items IN.heic OUT.heic --count N   IN's picture and N tiny items
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile

from PIL import Image


def boxes(data, start=0, end=None):
    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        head = 8
        if size == 1:
            size = struct.unpack(">Q", data[at + 8:at + 16])[0]
            head = 16
        elif size == 0:
            size = end - at
        yield kind.decode("latin1"), data[at + head:at + size]
        at += size


def child(data, kind):
    return next((b for k, b in boxes(data) if k == kind), None)


def be(b, n):
    return int.from_bytes(b[:n], "big"), b[n:]


class Heif:
    """The items of a simple HEIF file: types, properties (raw boxes), data, references."""

    def __init__(self, data):
        meta = child(data, "meta")[4:]
        self.primary = struct.unpack(">H", child(meta, "pitm")[4:6])[0]
        self.types = {}
        iinf = child(meta, "iinf")
        count_size = 2 if iinf[0] == 0 else 4
        for kind, infe in boxes(iinf, 4 + count_size):
            item_id, item_type = struct.unpack(">H2x4s", infe[4:12])
            self.types[item_id] = item_type.decode("latin1")
        self.data = self._locations(child(meta, "iloc"), data)
        iprp = child(meta, "iprp")
        props = [(k, b) for k, b in boxes(child(iprp, "ipco"))]
        self.props = {}
        ipma = child(iprp, "ipma")
        version, flags = ipma[0], int.from_bytes(ipma[1:4], "big")
        rest = ipma[4:]
        count, rest = be(rest, 4)
        for _ in range(count):
            item_id, rest = be(rest, 2 if version < 1 else 4)
            n, rest = be(rest, 1)
            for _ in range(n):
                raw, rest = be(rest, 2 if flags & 1 else 1)
                index = raw & (0x7FFF if flags & 1 else 0x7F)
                if index:
                    self.props.setdefault(item_id, []).append(props[index - 1])
        self.refs = []
        iref = child(meta, "iref")
        if iref:
            for kind, body in boxes(iref, 4):
                frm, n = struct.unpack(">HH", body[:4])
                to = list(struct.unpack(">%dH" % n, body[4:4 + 2 * n]))
                self.refs.append((kind, frm, to))

    def _locations(self, iloc, data):
        version = iloc[0]
        sizes = iloc[4:6]
        off_size, len_size = sizes[0] >> 4, sizes[0] & 15
        base_size, index_size = sizes[1] >> 4, sizes[1] & 15
        rest = iloc[6:]
        count, rest = be(rest, 2 if version < 2 else 4)
        out = {}
        for _ in range(count):
            item_id, rest = be(rest, 2 if version < 2 else 4)
            if version in (1, 2):
                method, rest = be(rest, 2)
                assert method & 15 == 0, "only file offsets"
            _, rest = be(rest, 2)
            base, rest = be(rest, base_size)
            extents, rest = be(rest, 2)
            chunks = []
            for _ in range(extents):
                if version in (1, 2) and index_size:
                    _, rest = be(rest, index_size)
                off, rest = be(rest, off_size)
                length, rest = be(rest, len_size)
                chunks.append(data[base + off:base + off + length])
            out[item_id] = b"".join(chunks)
        return out

    def alpha_of(self, item_id):
        return next((f for k, f, to in self.refs if k == "auxl" and item_id in to), None)


def box(kind, body):
    return struct.pack(">I4s", 8 + len(body), kind.encode("latin1")) + body


def full(kind, version, flags, body):
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + body)


class Writer:
    def __init__(self):
        self.items = []  # (id, type, props, data, in_idat, hidden)
        self.refs = []
        self.primary = None

    def add(self, kind, props, data, idat=False, hidden=False):
        item_id = len(self.items) + 1
        self.items.append((item_id, kind, props, data, idat, hidden))
        return item_id

    def bytes(self, brand="heic"):
        ftyp = box("ftyp", brand.encode() + b"\0\0\0\0" + b"mif1" + brand.encode())
        table, index = [], {}
        assoc = []
        for item_id, _, props, *_ in self.items:
            ids = []
            for kind, body in props:
                key = (kind, body)
                if key not in index:
                    table.append(box(kind, body))
                    index[key] = len(table)
                essential = kind in ("hvcC", "irot", "imir", "clap", "av1C")
                ids.append(index[key] | (0x8000 if essential else 0))
            assoc.append((item_id, ids))
        ipma = struct.pack(">I", len(assoc)) + b"".join(
            struct.pack(">HB", i, len(ids)) + b"".join(struct.pack(">H", x) for x in ids)
            for i, ids in assoc)
        iprp = box("iprp", box("ipco", b"".join(table)) + full("ipma", 0, 1, ipma))
        infes = b"".join(
            full("infe", 2, 1 if hidden else 0, struct.pack(">HH4s", i, 0, k.encode()) + b"\0")
            for i, k, _, _, _, hidden in self.items)
        iinf = full("iinf", 0, 0, struct.pack(">H", len(self.items)) + infes)
        iref = full("iref", 0, 0, b"".join(
            box(k, struct.pack(">HH", f, len(to)) + b"".join(struct.pack(">H", t) for t in to))
            for k, f, to in self.refs)) if self.refs else b""
        idat_body = b"".join(d for _, _, _, d, in_idat, _ in self.items if in_idat)

        def meta(base):
            entries, mdat_at, idat_at = [], base, 0
            for i, _, _, d, in_idat, _ in self.items:
                at = idat_at if in_idat else mdat_at
                entries.append(struct.pack(">HHHHII", i, 1 if in_idat else 0, 0, 1, at, len(d)))
                if in_idat:
                    idat_at += len(d)
                else:
                    mdat_at += len(d)
            iloc = full("iloc", 1, 0, bytes([0x44, 0x00]) + struct.pack(">H", len(entries)) + b"".join(entries))
            hdlr = full("hdlr", 0, 0, b"\0\0\0\0pict" + b"\0" * 12 + b"\0")
            pitm = full("pitm", 0, 0, struct.pack(">H", self.primary))
            idat = box("idat", idat_body) if idat_body else b""
            return full("meta", 0, 0, hdlr + pitm + iloc + iinf + iref + iprp + idat)

        size = len(meta(0))
        body = meta(len(ftyp) + size + 8)
        assert len(body) == size
        mdat = box("mdat", b"".join(d for _, _, _, d, in_idat, _ in self.items if not in_idat))
        return ftyp + body + mdat


def ispe(w, h):
    return ("ispe", b"\0\0\0\0" + struct.pack(">II", w, h))


def grid_data(columns, rows, w, h):
    big = w > 65535 or h > 65535
    return bytes([0, 1 if big else 0, rows - 1, columns - 1]) + (
        struct.pack(">II", w, h) if big else struct.pack(">HH", w, h))


def colour_props(props):
    return [p for p in props if p[0] in ("colr", "pixi")]


def cmd_grid(args):
    src = Image.open(args.src)
    w, h = src.size
    t = args.tile
    columns, rows = -(-w // t), -(-h // t)
    out = Writer()
    tiles, alphas, first = [], [], None
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rows):
            for c in range(columns):
                tile = src.crop((c * t, r * t, c * t + t, r * t + t))
                png, heic = os.path.join(tmp, "t.png"), os.path.join(tmp, "t.heic")
                tile.save(png)
                subprocess.run(["heif-enc", *args.enc.split(), "-o", heic, png], check=True, stdout=subprocess.DEVNULL)
                f = Heif(open(heic, "rb").read())
                first = first or f
                tiles.append(out.add("hvc1", f.props[f.primary], f.data[f.primary], hidden=True))
                a = f.alpha_of(f.primary)
                if a:
                    alphas.append(out.add("hvc1", f.props[a], f.data[a], hidden=True))
    props = [ispe(w, h)] + colour_props(first.props[first.primary])
    out.primary = out.add("grid", props, grid_data(columns, rows, w, h), idat=True)
    out.refs.append(("dimg", out.primary, tiles))
    if alphas:
        aux = [p for p in first.props[first.alpha_of(first.primary)] if p[0] == "auxC"]
        g = out.add("grid", [ispe(w, h)] + aux, grid_data(columns, rows, w, h), idat=True, hidden=True)
        out.refs.append(("dimg", g, alphas))
        out.refs.append(("auxl", g, [out.primary]))
    open(args.out, "wb").write(out.bytes())


def copy(f, transforms):
    """A single-picture file rewritten, with `transforms` added to the primary item."""
    out = Writer()
    out.primary = out.add("hvc1", f.props[f.primary] + transforms, f.data[f.primary])
    a = f.alpha_of(f.primary)
    if a:
        aid = out.add("hvc1", f.props[a], f.data[a], hidden=True)
        out.refs.append(("auxl", aid, [out.primary]))
    return out


def cmd_transform(args):
    f = Heif(open(args.src, "rb").read())
    t = []
    if args.clap:
        cw, ch = args.clap
        t.append(("clap", struct.pack(">IIIIiIiI", cw, 1, ch, 1, 0, 1, 0, 1)))
    if args.nclx:
        pr, tc, mc, full_range = args.nclx
        t.append(("colr", b"nclx" + struct.pack(">HHHB", pr, tc, mc, 0x80 if full_range else 0)))
    if args.irot is not None:
        t.append(("irot", bytes([args.irot & 3])))
    if args.imir is not None:
        t.append(("imir", bytes([args.imir & 1])))
    open(args.out, "wb").write(copy(f, t).bytes())


def cmd_bad_grid(args):
    f = Heif(open(args.src, "rb").read())
    out = Writer()
    tile = out.add("hvc1", f.props[f.primary], f.data[f.primary], hidden=True)
    out.primary = out.add("grid", [ispe(args.width, args.height)],
                          grid_data(args.columns, args.rows, args.width, args.height), idat=True)
    out.refs.append(("dimg", out.primary, [tile] * (args.columns * args.rows)))
    open(args.out, "wb").write(out.bytes())


def cmd_many_items(args):
    f = Heif(open(args.src, "rb").read())
    out = Writer()
    out.primary = out.add("hvc1", f.props[f.primary], f.data[f.primary])
    for _ in range(args.count):
        out.add("mime", [], b"x", hidden=True)
    open(args.out, "wb").write(out.bytes())


def main_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("grid")
    g.add_argument("src")
    g.add_argument("out")
    g.add_argument("--tile", type=int, default=512)
    g.add_argument("--enc", default="", help="heif-enc arguments, as one string")
    t = sub.add_parser("transform")
    t.add_argument("src")
    t.add_argument("out")
    t.add_argument("--irot", type=int)
    t.add_argument("--imir", type=int)
    t.add_argument("--clap", type=int, nargs=2)
    t.add_argument("--nclx", type=int, nargs=4, metavar=("PRIMARIES", "TRANSFER", "MATRIX", "FULL"))
    b = sub.add_parser("bad-grid")
    b.add_argument("src")
    b.add_argument("out")
    for name in ("columns", "rows", "width", "height"):
        b.add_argument("--" + name, type=int, required=True)
    m = sub.add_parser("many-items")
    m.add_argument("src")
    m.add_argument("out")
    m.add_argument("--count", type=int, required=True)
    args = p.parse_args(argv)
    commands = {"grid": cmd_grid, "transform": cmd_transform, "bad-grid": cmd_bad_grid,
                "many-items": cmd_many_items}
    commands[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main_args(sys.argv[1:]))
