"""Prometheus metrics: requests, latency, faces processed, batch sizes, gallery sizes (read on scrape)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ..gallery import GalleryService
from .tokens import TokenStore

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _Sizes(Collector):
    def __init__(self, gallery: GalleryService, tokens: TokenStore) -> None:
        self.gallery, self.tokens = gallery, tokens

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = self.gallery.stats()
        yield GaugeMetricFamily("faceprint_facesets", "Facesets, all tenants", value=stats.galleries)
        yield GaugeMetricFamily("faceprint_gallery_faces", "Faces in facesets, all tenants", value=stats.faces)
        yield GaugeMetricFamily("faceprint_face_tokens", "Face tokens held (detected, not yet expired or in a faceset)", value=self.tokens.count())


class Metrics:
    def __init__(self, gallery: GalleryService, tokens: TokenStore) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("faceprint_requests", "HTTP requests", ["endpoint", "status"], registry=self.registry)
        self.latency = Histogram(
            "faceprint_request_seconds", "Request latency", ["endpoint"], buckets=LATENCY_BUCKETS, registry=self.registry
        )
        self.faces = Counter("faceprint_faces_processed", "Faces detected or analysed", ["endpoint"], registry=self.registry)
        self.batch_size = Histogram(
            "faceprint_batch_images", "Images per shared engine call", buckets=(1, 2, 4, 8, 16, 32, 64), registry=self.registry
        )
        self.registry.register(_Sizes(gallery, tokens))

    def render(self) -> bytes:
        return generate_latest(self.registry)
