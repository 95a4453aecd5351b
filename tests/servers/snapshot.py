# SPDX-License-Identifier: MPL-2.0
"""Reads physical storage entries out of a raft snapshot (`operator raft snapshot save`).

A snapshot is a gzip'd tar holding `state.bin`: length-delimited protobuf `StorageEntry` messages
(field 1 the key, field 2 the value). The seal's stored keys (`core/hsm/barrier-unseal-keys`,
`core/recovery-key`) are kept there as plain BlobInfo bytes, outside the barrier, which is how the
suites hand them to `ocikms rewrap`.
"""

from __future__ import annotations

import io
import tarfile


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _entry(message: bytes) -> tuple[str, bytes]:
    key, value, pos = "", b"", 0
    while pos < len(message):
        tag, pos = _varint(message, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 2:
            length, pos = _varint(message, pos)
            chunk = message[pos:pos + length]
            pos += length
            if field == 1:
                key = chunk.decode()
            elif field == 2:
                value = chunk
        elif wire == 0:
            _, pos = _varint(message, pos)
        else:
            raise ValueError(f"unexpected wire type {wire} in a snapshot entry")
    return key, value


def storage_entries(snapshot: bytes) -> dict[str, bytes]:
    """Every key → value of the snapshot's state."""
    with tarfile.open(fileobj=io.BytesIO(snapshot), mode="r:gz") as archive:
        state = archive.extractfile("state.bin").read()
    entries, pos = {}, 0
    while pos < len(state):
        length, pos = _varint(state, pos)
        key, value = _entry(state[pos:pos + length])
        entries[key] = value
        pos += length
    return entries
