from .base import Landmarker

__all__ = ["Landmarker"]
