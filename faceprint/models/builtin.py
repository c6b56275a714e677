"""Importing this module registers every pack that ships with faceprint."""

from . import arcface_s, dlib, sface  # noqa: F401  (the dlib pack imports dlib only when built)
