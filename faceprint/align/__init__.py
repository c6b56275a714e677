"""Five-point similarity alignment onto the ArcFace 112x112 template."""

from .similarity import ARCFACE_TEMPLATE, align_crop, align_mirrored, estimate_similarity, mirror

__all__ = ["ARCFACE_TEMPLATE", "align_crop", "align_mirrored", "estimate_similarity", "mirror"]
