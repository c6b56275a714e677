"""The decoding process: one per job, started by :mod:`faceprint.video.isolated`, never imported by the server.

It caps its own address space (RLIMIT_AS) and core dumps, opens the video with
:class:`~faceprint.video.source.VideoSource` and streams what it decodes to its parent on the
file descriptor that was its stdout (its stdout proper is pointed at stderr, so nothing FFmpeg
prints can corrupt the stream). Messages are ``kind (1 byte) + length (4 bytes) + body``:

    I  JSON   the VideoInfo, once, after the first frame decoded
    F  bytes  one frame: index (int64), time_s (float64), height, width (uint32), then BGR pixels
    T  JSON   the end: {"truncated": bool, "frames_read": int}
    E  JSON   a refusal: {"code", "message"}; the parent raises the same code

Only ``faceprint.errors`` and ``faceprint.video.source`` are loaded (see :data:`BOOTSTRAP`): the
process needs numpy and PyAV, not the models.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import sys
from typing import Any

FRAME_HEAD = struct.Struct("<qdII")
MESSAGE_HEAD = struct.Struct("<cI")

# Run as ``python -c BOOTSTRAP <package dir> <spec json>``: the package's __init__ files (which load
# the engine) are skipped by registering bare package modules first.
BOOTSTRAP = """
import os, sys, types
root = sys.argv[1]
for name, sub in (("faceprint", ""), ("faceprint.video", "video")):
    mod = types.ModuleType(name)
    mod.__path__ = [os.path.join(root, sub)]
    sys.modules[name] = mod
from faceprint.video.worker import main
main(sys.argv[2])
"""


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _send(fd: int, kind: bytes, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    _write_all(fd, MESSAGE_HEAD.pack(kind, len(raw)) + raw)


def main(spec_json: str) -> None:
    spec = json.loads(spec_json)
    out = os.dup(1)
    os.dup2(2, 1)
    limit = int(spec["memory_mb"]) << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    import av.error
    import numpy as np

    from ..errors import FaceprintError
    from .source import SourceConfig, VideoSource

    cfg = spec["config"]
    config = SourceConfig(codecs=frozenset(cfg["codecs"]), max_pixels=cfg["max_pixels"], max_duration_s=cfg["max_duration_s"],
                          allow_truncated=cfg["allow_truncated"], threads=cfg["threads"])  # fmt: skip
    try:
        with VideoSource(spec["path"], config) as video:
            _send(out, b"I", dict(vars(video.info)))
            for frame in video:
                img = np.ascontiguousarray(frame.image)
                head = FRAME_HEAD.pack(
                    frame.index, frame.time_s, img.shape[0], img.shape[1]
                )
                _write_all(out, MESSAGE_HEAD.pack(b"F", len(head) + img.nbytes) + head)
                _write_all(out, img.data.cast("B"))
            _send(
                out,
                b"T",
                {"truncated": video.truncated, "frames_read": video.frames_read},
            )
    except FaceprintError as exc:
        _send(out, b"E", {"code": exc.code, "message": exc.message})
    except (
        MemoryError,
        av.error.MemoryError,
        av.error.BlockingIOError,
    ):  # ENOMEM, or no room for a thread (EAGAIN)
        _send(
            out,
            b"E",
            {
                "code": "VIDEO_ERROR_WORKER_OUT_OF_MEMORY",
                "message": f"decoding needed over {spec['memory_mb']} MB",
            },
        )
    except BrokenPipeError:
        pass  # the parent stopped reading: it wants no more frames
    sys.stdout.flush()
    os._exit(0)
