"""Calibration.verdict: the one 1:1 decision (FaceEngine.compare, HTTP compare and liveness use it)."""

import numpy as np

from faceprint.compare import FACEPP_CONFIDENCE, calibration_for, cosine


def test_verdict_of_two_real_templates_is_the_verdict_of_their_cosine(engine, photos):
    a, b, c = (engine.embed(photos / name)[0].embedding for name in ("obama.jpg", "obama2.jpg", "biden.jpg"))
    cal = calibration_for("arcface-s")
    same, other = cal.verdict(a, b), cal.verdict(a, c)
    assert same == cal.verdict(cosine(a, b)) and other == cal.verdict(cosine(a, c))
    assert abs(other.similarity - float(a @ c)) < 1e-6  # unit templates: the cosine is their dot product, to rounding
    assert same.confidence == cal.confidence(same.similarity) and same.thresholds == FACEPP_CONFIDENCE
    assert same.match("1e-5") and not other.match("1e-3")
    assert engine.compare(photos / "obama.jpg", photos / "obama2.jpg").confidence == engine.calibration_of(True).verdict(
        *(engine.template(photos / n)[0].embedding for n in ("obama.jpg", "obama2.jpg"))
    ).confidence


def test_a_verdict_matches_exactly_from_each_calibrated_similarity():
    cal = calibration_for("arcface-s")
    for far, sim in cal.similarity_at_far.items():
        at, below = cal.verdict(sim), cal.verdict(np.nextafter(sim, -1.0) - 1e-9)
        assert abs(at.confidence - FACEPP_CONFIDENCE[far]) < 1e-9
        assert at.match(far) and not below.match(far)
    assert cal.verdict(1.5).confidence == 100.0 and cal.verdict(-2.0).confidence == 0.0
