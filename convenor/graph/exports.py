"""Writing a stored map to files: GraphML, GEXF, a CSV edge list, and an SVG or PNG picture.

GraphML and GEXF are streamed (one node or line at a time) so a big map never sits in memory
as XML. Both are written as directed graphs: a few line kinds have a direction, and the
readers (networkx, Gephi) refuse a mix; undirected lines carry `directed=false` as data.
The PNG is drawn with numpy and encoded with zlib, so pictures need no extra dependency.
"""

from __future__ import annotations

import csv
import math
import os
import struct
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import numpy.typing as npt

from convenor.core.errors import ApplicationError, ErrorCode, invalid
from convenor.graph.build import basis_names
from convenor.graph.models import Line, LineKind, Map, Node, NodeKind
from convenor.people.models import Member, Organization

FORMATS = ("graphml", "gexf", "csv", "svg", "png")
# The picture shows at most this many nodes (the most influential) and lines (the heaviest).
PICTURE_NODES = 20_000
PICTURE_LINES = 60_000
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
    "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
)  # fmt: skip
LINE_COLOURS: dict[str, str] = {
    LineKind.CONNECTION: "#6b7280",
    LineKind.PARTICIPATION: "#93c5fd",
    LineKind.INFLUENCE: "#f59e0b",
    LineKind.PROSPECTING: "#ef4444",
    LineKind.CHANNEL: "#10b981",
}


@dataclass
class ExportResult:
    path: Path
    format: str
    nodes: int
    lines: int

    def summary(self) -> str:
        return f"Wrote {self.format.upper()} of {self.nodes:,} nodes and {self.lines:,} lines to {self.path}."


NODE_FIELDS = (
    "idx",
    "kind",
    "ref_id",
    "label",
    "role",
    "org_id",
    "community",
    "pagerank",
    "brokerage",
    "degree",
    "x",
    "y",
)


def _nodes(m: Map) -> Iterator[dict[str, object]]:
    """The map's nodes with the attributes every export carries (emails and organisation names)."""
    orgs = dict(Organization.objects.values_list("pk", "name"))
    emails: dict[int, str] = {}
    member_ids = list(Node.objects.filter(map=m, kind=NodeKind.MEMBER).values_list("ref_id", flat=True))
    for lo in range(0, len(member_ids), 20_000):
        for pk, email in Member.objects.filter(pk__in=member_ids[lo : lo + 20_000]).values_list("pk", "email"):
            if email:
                emails[pk] = email
    for row in Node.objects.filter(map=m).order_by("idx").values_list(*NODE_FIELDS).iterator(chunk_size=20_000):
        d = dict(zip(NODE_FIELDS, row, strict=True))
        d["email"] = emails.get(int(d["ref_id"]), "") if d["kind"] == NodeKind.MEMBER else ""
        d["organization"] = orgs.get(d["org_id"], "") if d["org_id"] is not None else ""
        d["community"] = -1 if d["community"] is None else d["community"]
        yield d


LINE_FIELDS = ("kind", "source", "target", "directed", "weight", "evidence", "first_seen", "last_seen", "basis")


def _lines(m: Map) -> Iterator[dict[str, object]]:
    for row in Line.objects.filter(map=m).order_by("id").values_list(*LINE_FIELDS).iterator(chunk_size=50_000):
        yield dict(zip(LINE_FIELDS, row, strict=True))


def _when(v: object) -> str:
    return v.isoformat() if v is not None else ""  # type: ignore[attr-defined]


NODE_ATTRS = (
    ("label", "string"), ("kind", "string"), ("email", "string"), ("role", "string"), ("organization", "string"),
    ("community", "int"), ("pagerank", "double"), ("brokerage", "double"), ("degree", "int"),
    ("x", "double"), ("y", "double"),
)  # fmt: skip
EDGE_ATTRS = (
    ("kind", "string"), ("directed", "boolean"), ("weight", "double"), ("evidence", "int"),
    ("first_seen", "string"), ("last_seen", "string"), ("basis", "string"),
)  # fmt: skip


def _value(d: dict[str, object], name: str) -> str:
    v = d.get(name)
    if name in ("first_seen", "last_seen"):
        return _when(v)
    if name == "basis":
        return ",".join(basis_names(int(v or 0)))  # type: ignore[call-overload]
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def _write_graphml(m: Map, out: IO[str]) -> tuple[int, int]:
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write('<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n')
    for name, typ in NODE_ATTRS:
        out.write(f'<key id="n_{name}" for="node" attr.name="{name}" attr.type="{typ}"/>\n')
    for name, typ in EDGE_ATTRS:
        out.write(f'<key id="e_{name}" for="edge" attr.name="{name}" attr.type="{typ}"/>\n')
    out.write(f'<graph id={quoteattr(str(m))} edgedefault="directed">\n')
    n = e = 0
    for d in _nodes(m):
        data = "".join(f'<data key="n_{k}">{escape(_value(d, k))}</data>' for k, _ in NODE_ATTRS)
        out.write(f'<node id="n{d["idx"]}">{data}</node>\n')
        n += 1
    for d in _lines(m):
        data = "".join(f'<data key="e_{k}">{escape(_value(d, k))}</data>' for k, _ in EDGE_ATTRS)
        out.write(f'<edge id="e{e}" source="n{d["source"]}" target="n{d["target"]}">{data}</edge>\n')
        e += 1
    out.write("</graph>\n</graphml>\n")
    return n, e


def _write_gexf(m: Map, out: IO[str]) -> tuple[int, int]:
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write('<gexf xmlns="http://gexf.net/1.3" xmlns:viz="http://gexf.net/1.3/viz" version="1.3">\n')
    out.write(f"<meta><creator>Convenor</creator><description>{escape(str(m))}</description></meta>\n")
    out.write('<graph defaultedgetype="directed" mode="static">\n<attributes class="node">\n')
    gexf_type = {"string": "string", "int": "integer", "double": "double", "boolean": "boolean"}
    node_attrs = [(k, t) for k, t in NODE_ATTRS if k not in ("label", "x", "y")]
    for i, (name, typ) in enumerate(node_attrs):
        out.write(f'<attribute id="{i}" title="{name}" type="{gexf_type[typ]}"/>\n')
    out.write('</attributes>\n<attributes class="edge">\n')
    edge_attrs = [(k, t) for k, t in EDGE_ATTRS if k != "weight"]
    for i, (name, typ) in enumerate(edge_attrs):
        out.write(f'<attribute id="{i}" title="{name}" type="{gexf_type[typ]}"/>\n')
    out.write("</attributes>\n<nodes>\n")
    n = e = 0
    for d in _nodes(m):
        vals = "".join(f'<attvalue for="{i}" value={quoteattr(_value(d, k))}/>' for i, (k, _) in enumerate(node_attrs))
        out.write(
            f'<node id="n{d["idx"]}" label={quoteattr(str(d["label"]))}><attvalues>{vals}</attvalues>'
            f'<viz:position x="{d["x"]}" y="{d["y"]}" z="0.0"/></node>\n'
        )
        n += 1
    out.write("</nodes>\n<edges>\n")
    for d in _lines(m):
        vals = "".join(f'<attvalue for="{i}" value={quoteattr(_value(d, k))}/>' for i, (k, _) in enumerate(edge_attrs))
        out.write(
            f'<edge id="e{e}" source="n{d["source"]}" target="n{d["target"]}" weight="{d["weight"]}">'
            f"<attvalues>{vals}</attvalues></edge>\n"
        )
        e += 1
    out.write("</edges>\n</graph>\n</gexf>\n")
    return n, e


def _write_csv(m: Map, out: IO[str]) -> tuple[int, int]:
    nodes = {int(d["idx"]): d for d in _nodes(m)}  # type: ignore[call-overload]
    w = csv.writer(out)
    w.writerow(["source", "source_kind", "source_id", "target", "target_kind", "target_id", "kind", "directed",
                "weight", "evidence", "first_seen", "last_seen", "basis"])  # fmt: skip
    e = 0
    for d in _lines(m):
        s, t = nodes[int(d["source"])], nodes[int(d["target"])]  # type: ignore[call-overload]
        w.writerow([s["label"], s["kind"], s["ref_id"], t["label"], t["kind"], t["ref_id"], d["kind"],
                    "true" if d["directed"] else "false", d["weight"], d["evidence"], _when(d["first_seen"]),
                    _when(d["last_seen"]), _value(d, "basis")])  # fmt: skip
        e += 1
    return len(nodes), e


@dataclass
class _Picture:
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    r: npt.NDArray[np.float64]
    colour: list[str]
    labels: list[tuple[float, float, str]]
    lines: list[tuple[int, int, str]]
    width: int
    height: int
    nodes: int


def _picture(m: Map, size: int = 1600) -> _Picture:
    rows = list(
        Node.objects.filter(map=m)
        .order_by("-pagerank", "-degree", "idx")
        .values_list("idx", "x", "y", "community", "pagerank", "label", "kind")[:PICTURE_NODES]
    )
    idx = np.array([r[0] for r in rows], dtype=np.int64)
    xs = np.array([r[1] for r in rows], dtype=np.float64)
    ys = np.array([r[2] for r in rows], dtype=np.float64)
    pr = np.array([r[4] for r in rows], dtype=np.float64)
    pad = 40
    if len(rows):
        lo_x, hi_x, lo_y, hi_y = xs.min(), xs.max(), ys.min(), ys.max()
        span = max(hi_x - lo_x, hi_y - lo_y) or 1.0
        inner = size - 2 * pad
        # Centred: the shorter side gets equal margins.
        px = pad + (xs - lo_x) / span * inner + (span - (hi_x - lo_x)) / span * inner / 2
        py = pad + (ys - lo_y) / span * inner + (span - (hi_y - lo_y)) / span * inner / 2
    else:
        px = py = np.zeros(0)
    top = pr.max() if len(pr) and pr.max() > 0 else 1.0
    radius = 1.5 + 6 * np.sqrt(pr / top)
    colour = [PALETTE[(r[3] if r[3] is not None else 0) % len(PALETTE)] for r in rows]
    where = {int(i): k for k, i in enumerate(idx.tolist())}
    picked: list[tuple[int, int, str]] = []
    for kind, s, t in (
        Line.objects.filter(map=m)
        .order_by("-weight")
        .values_list("kind", "source", "target")
        .iterator(chunk_size=50_000)
    ):
        a, b = where.get(s), where.get(t)
        if a is not None and b is not None:
            picked.append((a, b, LINE_COLOURS.get(kind, "#999999")))
            if len(picked) >= PICTURE_LINES:
                break
    labels = [(float(px[k]), float(py[k]), rows[k][5]) for k in range(min(15, len(rows)))]
    return _Picture(px, py, radius, colour, labels, picked, size, size, len(rows))


def _write_svg(m: Map, out: IO[str]) -> tuple[int, int]:
    p = _picture(m)
    out.write(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{p.width}" height="{p.height}"'
        f' viewBox="0 0 {p.width} {p.height}">\n<rect width="100%" height="100%" fill="white"/>\n'
        f'<title>{escape(str(m))}</title>\n<g stroke-width="0.5" stroke-opacity="0.35">\n'
    )
    for a, b, c in p.lines:
        out.write(f'<line x1="{p.x[a]:.1f}" y1="{p.y[a]:.1f}" x2="{p.x[b]:.1f}" y2="{p.y[b]:.1f}" stroke="{c}"/>\n')
    out.write("</g>\n<g>\n")
    for k in range(p.nodes - 1, -1, -1):  # the most influential drawn last, on top
        out.write(f'<circle cx="{p.x[k]:.1f}" cy="{p.y[k]:.1f}" r="{p.r[k]:.1f}" fill="{p.colour[k]}"/>\n')
    out.write('</g>\n<g font-family="sans-serif" font-size="12" fill="#111">\n')
    for x, y, text in p.labels:
        out.write(f'<text x="{x + 6:.1f}" y="{y - 6:.1f}">{escape(text)}</text>\n')
    out.write("</g>\n</svg>\n")
    return p.nodes, len(p.lines)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def _png_bytes(pixels: npt.NDArray[np.uint8]) -> bytes:
    h, w, _ = pixels.shape
    raw = np.concatenate([np.zeros((h, 1), dtype=np.uint8), pixels.reshape(h, w * 3)], axis=1).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def _draw_png(m: Map) -> tuple[bytes, int, int]:
    p = _picture(m)
    w, h = p.width, p.height
    canvas = np.full((h, w, 3), 255.0)
    if p.lines:
        # Lines: points sampled along each segment, blended at 30% opacity.
        a = np.array([ln[0] for ln in p.lines])
        b = np.array([ln[1] for ln in p.lines])
        col = np.array([_rgb(ln[2]) for ln in p.lines], dtype=np.float64)
        length = np.hypot(p.x[b] - p.x[a], p.y[b] - p.y[a])
        steps = np.clip(np.ceil(length), 1, 2 * w).astype(np.int64)
        seg = np.repeat(np.arange(len(a)), steps)
        offs = np.arange(len(seg)) - np.repeat(np.cumsum(steps) - steps, steps)
        t = offs / np.repeat(steps, steps)
        xs = np.clip((p.x[a][seg] + (p.x[b][seg] - p.x[a][seg]) * t).astype(np.int64), 0, w - 1)
        ys = np.clip((p.y[a][seg] + (p.y[b][seg] - p.y[a][seg]) * t).astype(np.int64), 0, h - 1)
        canvas[ys, xs] = canvas[ys, xs] * 0.7 + col[seg] * 0.3
    for k in range(p.nodes - 1, -1, -1):
        r = p.r[k]
        x0, x1 = int(max(p.x[k] - r, 0)), int(min(p.x[k] + r + 1, w))
        y0, y1 = int(max(p.y[k] - r, 0)), int(min(p.y[k] + r + 1, h))
        if x1 <= x0 or y1 <= y0:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        disc = (xx - p.x[k]) ** 2 + (yy - p.y[k]) ** 2 <= r * r
        canvas[y0:y1, x0:x1][disc] = _rgb(p.colour[k])
    return _png_bytes(canvas.astype(np.uint8)), p.nodes, len(p.lines)


def export_map(m: Map, *, fmt: str, path: str | Path) -> ExportResult:
    """Write map `m` to `path` in `fmt`. The file appears complete or not at all (written to a
    temporary file beside it, then renamed). Raises ApplicationError for an unknown format or a
    path that cannot be written."""
    fmt = (fmt or "").lower()
    if fmt not in FORMATS:
        raise invalid(f"Unknown export format {fmt!r}; use one of {', '.join(FORMATS)}.", format=fmt)
    target = Path(path)
    folder = target.parent if str(target.parent) else Path()
    if target.is_dir():
        raise ApplicationError(ErrorCode.BAD_REQUEST, f"{target} is a folder; give a file name.")
    if not folder.is_dir():
        raise ApplicationError(ErrorCode.BAD_REQUEST, f"Cannot write {target}: the folder {folder} does not exist.")
    if not os.access(folder, os.W_OK):
        raise ApplicationError(ErrorCode.BAD_REQUEST, f"Cannot write {target}: the folder {folder} is not writable.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    except OSError as exc:
        raise ApplicationError(ErrorCode.BAD_REQUEST, f"Cannot write {target}: {exc.strerror}.") from exc
    try:
        if fmt == "png":
            data, n, e = _draw_png(m)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        else:
            writer = {"graphml": _write_graphml, "gexf": _write_gexf, "csv": _write_csv, "svg": _write_svg}[fmt]
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                n, e = writer(m, fh)
        # mkstemp makes the file private; give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        Path(tmp).chmod(0o666 & ~umask)
        Path(tmp).replace(target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ApplicationError(ErrorCode.BAD_REQUEST, f"Cannot write {target}: {exc.strerror or exc}.") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ExportResult(path=target, format=fmt, nodes=n, lines=e)


def render(m: Map, fmt: str) -> bytes:
    """The export as bytes, for a download from the web or the API."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"map.{fmt}"
        export_map(m, fmt=fmt, path=path)
        return path.read_bytes()


__all__ = ["FORMATS", "ExportResult", "export_map", "math", "render"]
