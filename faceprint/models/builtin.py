"""Importing this module registers every pack that ships with faceprint."""

from . import arcface_s  # noqa: F401
