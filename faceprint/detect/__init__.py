from .base import Detector, nms

__all__ = ["Detector", "nms"]
