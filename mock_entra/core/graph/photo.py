"""A profile photo per user for Graph's `/photo/$value`: a small PNG, the same for a user on
every run (colours from the object id: a head and shoulders on a tinted square).

PNG is written by hand (zlib + struct: signature, IHDR, IDAT, IEND) because it is a few lines
and no imaging library earns a dependency here; nothing here is cryptographic.
Learn: "Get profilePhoto" (`GET /me/photo/$value` returns the binary; `GET /me/photo` the
metadata: id, height, width, `@odata.mediaContentType`).
"""

from __future__ import annotations

import functools
import hashlib
import struct
import zlib

SIZE = 96
CONTENT_TYPE = "image/png"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


@functools.lru_cache(maxsize=256)
def photo_png(object_id: str) -> bytes:
    digest = hashlib.sha256(object_id.encode()).digest()
    background = bytes(96 + b % 128 for b in digest[:3])
    figure = bytes(min(255, c + 90) for c in background)
    rows = []
    head_cx, head_cy, head_r = SIZE / 2, SIZE * 0.38, SIZE * 0.18
    body_cy, body_r = SIZE * 1.02, SIZE * 0.38
    for y in range(SIZE):
        row = bytearray(b"\x00")  # filter type 0 for each scanline
        for x in range(SIZE):
            in_head = (x - head_cx) ** 2 + (y - head_cy) ** 2 <= head_r**2
            in_body = (x - head_cx) ** 2 + (y - body_cy) ** 2 <= body_r**2
            row += figure if in_head or in_body else background
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


def photo_etag(object_id: str) -> str:
    return '"' + hashlib.sha256(photo_png(object_id)).hexdigest()[:32].upper() + '"'
