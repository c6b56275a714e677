"""faceprint: self-hosted face detection, verification, search, video and liveness."""

from .engine import EngineConfig, FaceEngine
from .errors import FaceprintError
from .image import ImageLimits, load_image
from .types import Face, Pose, Quality, Verdict

__version__ = "0.1.0"
__all__ = ["EngineConfig", "Face", "FaceEngine", "FaceprintError", "ImageLimits", "Pose", "Quality", "Verdict", "load_image"]
