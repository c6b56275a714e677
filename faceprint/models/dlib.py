"""The 'dlib' pack: dlib HOG detector + 5-point shape predictor + ResNet recogniser (128-D).

Weights come from ``face-recognition-models`` (the HOG detector is built into ``dlib-bin``).
The 68-point predictor in that package is never used: its iBUG 300-W training data forbids
commercial use.

Options, read when the pack is built (not at import):
- ``FACEPRINT_DLIB_DETECTOR``: ``hog`` (default) or ``mmod``, dlib's CNN detector: more robust
  to pose, but 3-11 s per photo on a CPU without BLAS, so never the default;
- ``FACEPRINT_DLIB_UPSAMPLE``: how many times dlib doubles the image before detecting (default 1;
  0 halves the time but misses faces under about 80 px).
"""

from __future__ import annotations

import os

from ..errors import ModelError
from .files import ModelFile
from .packs import BuildSettings, Components, Pack, register_pack

_LICENCE = (
    "dlib models by Davis King, released into the public domain: commercial use allowed. "
    "The 68-point landmark model, not used here, is excluded (iBUG 300-W: no commercial use)."
)


def _file(rel: str, sha: str) -> ModelFile:
    return ModelFile("face_recognition_models", "face-recognition-models==0.3.0", f"models/{rel}", sha, _LICENCE, True)


def _options() -> tuple[str, int]:
    kind = os.environ.get("FACEPRINT_DLIB_DETECTOR", "hog").strip().lower() or "hog"
    raw = os.environ.get("FACEPRINT_DLIB_UPSAMPLE", "1").strip() or "1"
    try:
        upsample = int(raw)
    except ValueError:
        raise ModelError(f"FACEPRINT_DLIB_UPSAMPLE must be an integer, got {raw!r}") from None
    return kind, upsample


def _build(pack: Pack, opt: BuildSettings) -> Components:
    from ..detect.dlib_hog import DlibDetector
    from ..detect.dlib_shape import FivePoint
    from ..embed.dlib_resnet import DlibResNet

    kind, upsample = _options()
    shapes = FivePoint(pack.files["landmarks5"].path())
    cnn = pack.files["detector_cnn"].path()  # the default HOG falls back to it on small images
    return Components(
        detector=DlibDetector(
            shapes, kind=kind, cnn_path=cnn, upsample=upsample, max_side=2 * opt.det_size, threshold=opt.det_threshold
        ),
        embedder=DlibResNet(pack.files["embedder"].path(), shapes),
        landmarker=None,
    )


PACK = register_pack(
    Pack(
        name="dlib",
        summary="dlib HOG detector (MMOD CNN optional), 5-point shape predictor, ResNet recogniser (128-D)",
        licence=_LICENCE,
        commercial=True,
        dim=128,
        files={
            "landmarks5": _file(
                "shape_predictor_5_face_landmarks.dat", "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"
            ),
            "embedder": _file(
                "dlib_face_recognition_resnet_model_v1.dat", "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
            ),
            "detector_cnn": _file(
                "mmod_human_face_detector.dat", "4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6"
            ),
        },
        builder=_build,
        compare_flip=False,  # its ResNet costs ~110 ms a face on a CPU; not calibrated with flip
    )
)
