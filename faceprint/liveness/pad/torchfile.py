"""Read a PyTorch *legacy* ``.pth`` file (pre-1.6, non-zip) with the standard library and numpy.

The legacy layout is five pickles and raw bytes, one after another::

    pickle(magic number) pickle(protocol) pickle(system info)
    pickle(the object)            # tensors are persistent ids ("storage", type, key, device, numel)
    pickle(sorted storage keys)
    for each key: <int64 little-endian element count> <the storage's raw bytes>

Every pickle is read by a restricted :class:`pickle.Unpickler`: the four around the object are
plain data and may name no global at all; the object's knows only the few globals a state dict
uses (``OrderedDict``, the storage types, ``_rebuild_tensor_v2``) and refuses every other one, so
a crafted file cannot run code. No torch import anywhere.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from ...errors import TorchFileError as TorchFileError  # defined in the one tree; minifasnet_net imports it from here

MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}  # fmt: skip


@dataclass(frozen=True)
class _StorageType:
    name: str


@dataclass
class _Storage:
    key: str
    dtype: np.dtype[Any]
    numel: int
    data: np.ndarray | None = None


@dataclass(frozen=True)
class _TensorRef:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def materialise(self) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise TorchFileError(f"storage {self.storage.key} has no data")
        if not self.size:
            return data[self.offset : self.offset + 1].reshape(()).copy()
        item = data.itemsize
        end = self.offset + 1 + sum((n - 1) * s for n, s in zip(self.size, self.stride, strict=False))
        if self.offset < 0 or end > data.size:
            raise TorchFileError(f"tensor of shape {self.size} overruns storage {self.storage.key}")
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :], shape=self.size, strides=tuple(s * item for s in self.stride)
        )
        return np.array(view, copy=True)


def _rebuild_tensor(storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...],
                    *_rest: object) -> _TensorRef:  # fmt: skip
    return _TensorRef(storage, int(offset), tuple(int(v) for v in size), tuple(int(v) for v in stride))


class _DataOnly(pickle.Unpickler):
    """Plain data (numbers, strings, lists, dicts): any global or persistent id is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise TorchFileError(f"refusing to load {module}.{name} from a weights file")

    def persistent_load(self, pid: Any) -> Any:
        raise TorchFileError(f"unexpected persistent id {pid!r:.80}")


class _Unpickler(_DataOnly):
    """The state dict: the globals it uses, and its tensors' storages as persistent ids."""

    def __init__(self, fh: IO[bytes], storages: dict[str, _Storage]) -> None:
        super().__init__(fh)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        return super().find_class(module, name)

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise TorchFileError(f"unexpected persistent id {pid!r:.80}")
        key = str(pid[2])
        if key not in self.storages:
            self.storages[key] = _Storage(key, np.dtype(_DTYPES[pid[1].name]), int(pid[4]))
        return self.storages[key]


def _load(fh: IO[bytes]) -> Any:
    if _DataOnly(fh).load() != MAGIC:
        raise TorchFileError("not a PyTorch legacy file (bad magic number)")
    _DataOnly(fh).load()  # protocol version
    _DataOnly(fh).load()  # system info (endianness, type sizes)
    storages: dict[str, _Storage] = {}
    obj = _Unpickler(fh, storages).load()
    keys = _DataOnly(fh).load()
    for key in keys:
        st = storages.get(str(key))
        if st is None:
            raise TorchFileError(f"storage {key} is listed but never used")
        count = int(np.frombuffer(fh.read(8), "<i8")[0])
        raw = fh.read(count * st.dtype.itemsize)
        if count != st.numel or len(raw) != count * st.dtype.itemsize:
            raise TorchFileError(f"storage {key} is truncated")
        st.data = np.frombuffer(raw, st.dtype.newbyteorder("<"))
    return obj


def load_state_dict(path: Path) -> dict[str, np.ndarray]:
    """The file's tensors as float32/int64 numpy arrays, by name, with DataParallel's ``module.`` prefix dropped."""
    try:
        with open(path, "rb") as fh:
            if fh.read(2) == b"PK":
                raise TorchFileError(f"{path.name} is a zip-format torch file; only the legacy format is read")
            fh.seek(0)
            obj = _load(fh)
    except (pickle.UnpicklingError, EOFError, ValueError, IndexError, TypeError) as exc:
        raise TorchFileError(f"{path.name} is not a readable PyTorch legacy file: {exc}") from None
    if not isinstance(obj, dict):
        raise TorchFileError(f"{path.name} does not hold a state dict")
    out: dict[str, np.ndarray] = {}
    for name, value in obj.items():
        if isinstance(value, _TensorRef):
            out[str(name).removeprefix("module.")] = value.materialise()
    return out
