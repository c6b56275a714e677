"""The response models of the Face++ client SDKs, mirrored as strict pydantic schemas.

Each class names the classes it mirrors: FaceppSwift (``Sources/FaceppSwift/Face/*.swift``,
Codable structs decoded with ``convertFromSnakeCase``), the official Java SDK
(``com.megvii.facepp.api.bean.*``, Gson beans) and facepp-dotnet-sdk (``Entity/*``, ``Face/*``,
``FaceSet/*`` response classes, Newtonsoft). Types are the strictest any of them declares:
Swift's ``JSONDecoder`` refuses a number where a ``String`` is declared (``next``) and a missing
key that is not optional (the 83 landmark names it requires), so ``strict=True`` here. Fields the
clients do not declare are ignored, as their decoders ignore them. ``decode(Model, body)`` is what
"the client's decode succeeds" means in the tests.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, create_model


class Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


M = TypeVar("M", bound=Model)


def decode(model: type[M], body: dict[str, Any]) -> M:
    return model.model_validate(body)


class Rectangle(Model):
    """FaceppSwift ``FaceppRectangle`` (Int fields); Java ``CommonRect``; .NET ``FaceRectangle``."""

    top: int
    left: int
    width: int
    height: int


class Point(Model):
    """FaceppSwift ``FaceppPoint`` (Float); Java ``Point``; .NET ``Coord``."""

    x: float
    y: float


# FaceppSwift ``LandMark``: the 83-point names it declares non-optional (a 106-point reply carries them too).
SWIFT_REQUIRED_POINTS = (
    "contour_chin", *[f"contour_left{i}" for i in range(1, 10)], *[f"contour_right{i}" for i in range(1, 10)],
    *[f"{side}_eye_{part}" for side in ("left", "right") for part in (
        "bottom", "center", "left_corner", "lower_left_quarter", "lower_right_quarter", "pupil", "right_corner", "top",
        "upper_left_quarter", "upper_right_quarter")],
    "left_eyebrow_left_corner", "left_eyebrow_lower_left_quarter", "left_eyebrow_lower_middle", "left_eyebrow_lower_right_quarter",
    "left_eyebrow_upper_left_quarter", "left_eyebrow_upper_middle", "left_eyebrow_upper_right_quarter",
    "mouth_left_corner", "mouth_lower_lip_bottom", *[f"mouth_lower_lip_{s}_contour{i}" for s in ("left", "right") for i in (1, 2, 3)],
    "mouth_lower_lip_top", "mouth_right_corner", "mouth_upper_lip_bottom",
    *[f"mouth_upper_lip_{s}_contour{i}" for s in ("left", "right") for i in (1, 2, 3)], "mouth_upper_lip_top", "nose_tip",
    "right_eyebrow_lower_left_quarter", "right_eyebrow_lower_middle", "right_eyebrow_lower_right_quarter", "right_eyebrow_right_corner",
    "right_eyebrow_upper_left_quarter", "right_eyebrow_upper_middle", "right_eyebrow_upper_right_quarter",
)  # fmt: skip
LandMark = create_model("LandMark", __base__=Model, **{name: (Point, ...) for name in SWIFT_REQUIRED_POINTS})  # type: ignore[call-overload]


class Threshold(Model):
    """FaceppSwift ``Attributes.Threshold``; Java ``Smile`` / ``Threshold``; .NET ``Smile``, ``FaceQuality``."""

    value: float
    threshold: float


class HeadPose(Model):
    pitch_angle: float
    roll_angle: float
    yaw_angle: float


class Blur(Model):
    """FaceppSwift ``Attributes.Blur``; Java ``Blurness``."""

    blurness: Threshold
    gaussianblur: Threshold
    motionblur: Threshold


class EyeStatusInfo(Model):
    occlusion: float
    normal_glass_eye_open: float
    normal_glass_eye_close: float
    no_glass_eye_open: float
    no_glass_eye_close: float
    dark_glasses: float


class EyeStatus(Model):
    left_eye_status: EyeStatusInfo
    right_eye_status: EyeStatusInfo


class MouthStatus(Model):
    surgical_mask_or_respirator: float
    other_occlusion: float
    close: float
    open: float


class Attributes(Model):
    """FaceppSwift ``Attributes``; Java ``FaceAttributes`` (``Smile smile``); .NET ``Attributes``.
    Every attribute optional: a client reads the ones it asked for."""

    smile: Threshold | None = None
    headpose: HeadPose | None = None
    facequality: Threshold | None = None
    blur: Blur | None = None
    eyestatus: EyeStatus | None = None
    mouthstatus: MouthStatus | None = None


class Face(Model):
    """FaceppSwift ``Face``; Java ``Face``; .NET ``Face``."""

    face_token: str
    face_rectangle: Rectangle
    attributes: Attributes | None = None
    landmark: LandMark | None = None  # type: ignore[valid-type]


class BriefFace(Model):
    face_token: str
    face_rectangle: Rectangle


class Response(Model):
    """FaceppSwift ``FaceppResponseProtocol``; Java ``BaseResponse``; .NET ``BaseResponse``."""

    request_id: str
    time_used: int
    error_message: str | None = None


class Error(Response):
    error_message: str


class DetectResponse(Response):
    """FaceppSwift ``FaceDetectResponse``; Java ``DetectResponse``; .NET ``FaceDetectResponse``."""

    image_id: str
    faces: list[Face]
    face_num: int


class CompareResponse(Response):
    """FaceppSwift ``CompareResponse``; Java ``CompareResponse``; .NET ``FaceCompareResponse``."""

    confidence: float | None = None
    thresholds: dict[str, float] | None = None
    image_id1: str | None = None
    image_id2: str | None = None
    faces1: list[BriefFace] | None = None
    faces2: list[BriefFace] | None = None


class SearchResult(Model):
    face_token: str
    confidence: float
    user_id: str


class SearchResponse(Response):
    """FaceppSwift ``SearchResponse``; Java ``SearchResponse`` / ``SearchFaceResult``; .NET ``FaceSearchResponse``."""

    results: list[SearchResult] | None = None
    thresholds: dict[str, float] | None = None
    image_id: str | None = None
    faces: list[BriefFace]


class FailureDetail(Model):
    """FaceppSwift ``FaceSetOpFailureDetail``; Java ``FailureDetail``."""

    face_token: str
    reason: str


class FaceSetNames(Response):
    """FaceppSwift ``FaceSetUpdateResponse`` / ``FacesetDeleteResponse``; Java ``FaceSetUpdateResponse``."""

    faceset_token: str
    outer_id: str


class FaceSetAddResponse(FaceSetNames):
    """FaceppSwift ``FaceSetCreateResponse`` / ``FaceSetAddFaceResponse``; Java ``FaceSetCreatResponse`` / ``FaceSetAddResponse``."""

    face_added: int
    face_count: int
    failure_detail: list[FailureDetail]


class FaceSetRemoveResponse(FaceSetNames):
    """FaceppSwift ``FaceSetRemoveResponse``; Java ``FaceSetRemoveResponse``."""

    face_removed: int
    face_count: int
    failure_detail: list[FailureDetail]


class FaceSetDetailResponse(FaceSetNames):
    """FaceppSwift ``FacesetGetDetailResponse`` (``next: String?``); Java ``FaceSetDetailResponse`` (``String next``);
    .NET ``GetFaceSetDetailResponse``."""

    display_name: str
    user_data: str
    tags: str
    face_count: int
    face_tokens: list[str]
    next: str | None = None


class FaceSet(Model):
    """FaceppSwift ``FaceSet`` (``tags`` decoded from a String and split on commas); Java ``FaceSet``."""

    faceset_token: str
    outer_id: str | None = None
    display_name: str
    tags: str


class FaceSetsResponse(Response):
    """FaceppSwift ``FaceSetsGetResponse`` (``next: String?``); Java ``FaceSetListResponse``; .NET ``GetAllFaceSetsResponse``."""

    facesets: list[FaceSet]
    next: str | None = None


class AsyncResponse(Response):
    """FaceppSwift ``FaceSetAsyncOperationResponse``."""

    task_id: str


class TaskStatusResponse(Response):
    """FaceppSwift ``FaceSetTaskQueryResponse``; Java ``TaskQueryResponse``."""

    status: int
    faceset_token: str | None = None
    outer_id: str | None = None
    face_added: int | None = None
    face_removed: int | None = None
    face_count: int | None = None
    failure_detail: list[FailureDetail] | None = None


class AnalyzeResponse(Response):
    """FaceppSwift ``FaceAnalyzeResponse``; Java ``FaceAnalyzeResponse``; .NET ``FaceAnalyzeResponse``."""

    faces: list[Face]


class FaceDetailResponse(Response):
    """FaceppSwift ``FaceGetDetailResponse`` (``imageId``); Java ``FaceDetailResponse``; .NET ``FaceGetDetailResponse``."""

    image_id: str
    face_token: str
    user_id: str
    face_rectangle: Rectangle
    facesets: list[FaceSet]


class SetUserIdResponse(Response):
    """FaceppSwift ``FaceSetUserIdResponse``; Java ``FaceToken``; .NET ``FaceSetUserIdResponse``."""

    face_token: str
    user_id: str
