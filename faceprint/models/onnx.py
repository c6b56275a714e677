"""onnxruntime sessions tuned for small CPUs."""

from __future__ import annotations

import os
from pathlib import Path

import onnxruntime as ort


def default_threads() -> int:
    return int(os.environ.get("FACEPRINT_THREADS", "0")) or min(os.cpu_count() or 1, 4)


def make_session(model: Path | bytes, threads: int | None = None) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or default_threads()
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Busy-wait spinning doubles latency when several sessions share two cores (measured).
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    src = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(src, sess_options=opts, providers=["CPUExecutionProvider"])
