"""Produce tests/liveness/data/minifasnet_golden.json with PyTorch: the parity reference.

Run ONCE, in a throwaway environment (never by CI, never in the project's venv)::

    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch==2.13.0 numpy opencv-python-headless
    /tmp/torchenv/bin/python bench/pad_golden.py

The reference network below is MiniFASNet as torch modules, written from the architecture
(docs/liveness.md), loaded with ``torch.load`` from the published ``.pth`` files exactly as
upstream loads them (``module.`` prefix stripped, ``load_state_dict`` strict). The crops are
cut here with upstream's own crop rule (box [x, y, w+1, h+1], scale clamped, shifted inside).
For each case the golden file keeps the image, the box, the sha256 of both 80x80 crops and both
networks' softmax plus the fused live probability; tests/liveness/test_minifasnet.py checks our
onnxruntime graphs against them without torch.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "models" / "silent-face"
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "tests" / "liveness" / "data" / "minifasnet_golden.json"
# Boxes (x1, y1, x2, y2) found by faceprint's SCRFD detector on these images, fixed here as inputs.
CASES = [
    ("spoof/real/liveness2_10.png", [0.9, 1.9, 163.7, 223.6]),
    ("spoof/fake/liveness2_58.png", [3.0, 6.7, 124.7, 178.1]),
    ("spoof/fake/silentface_image_F1.jpg", [192.1, 105.2, 386.0, 354.7]),
    ("spoof/fake/silentface_image_F2.jpg", [148.1, 193.3, 357.4, 507.3]),
    ("spoof/real/silentface_image_T1.jpg", [117.7, 109.6, 296.6, 351.3]),
    ("spoof/nuaa/live/0001/0001_00_00_01_444.jpg", [266.5, 121.9, 418.4, 326.6]),
    ("spoof/nuaa/attack/0003/0003_01_01_03_296.jpg", [205.8, 132.0, 328.2, 276.0]),
    ("video/stills/obama.jpg", [378.3, 84.2, 609.8, 426.4]),
]
NETS = [("2.7_80x80_MiniFASNetV2.pth", 2.7), ("4_0_0_80x80_MiniFASNetV1SE.pth", 4.0)]
# Channel widths of the two pruned variants (MiniVision's "1.8M_" for V2, "1.8M" for V1SE).
WIDTHS = {
    "V2": [32, 32, 103, 103, 64, 13, 13, 64, 13, 13, 64, 13, 13, 64, 13, 13, 64, 231, 231, 128, 231, 231, 128, 52,
           52, 128, 26, 26, 128, 77, 77, 128, 26, 26, 128, 26, 26, 128, 308, 308, 128, 26, 26, 128, 26, 26, 128, 512, 512],
    "V1": [32, 32, 103, 103, 64, 13, 13, 64, 26, 26, 64, 13, 13, 64, 52, 52, 64, 231, 231, 128, 154, 154, 128, 52, 52,
           128, 26, 26, 128, 52, 52, 128, 26, 26, 128, 26, 26, 128, 308, 308, 128, 26, 26, 128, 26, 26, 128, 512, 512],
}


class ConvBN(nn.Module):
    def __init__(self, cin: int, cout: int, k: int = 1, s: int = 1, p: int = 0, g: int = 1, act: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, p, groups=g, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        if act:
            self.prelu = nn.PReLU(cout)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return self.prelu(x) if self.act else x


class SE(nn.Module):
    def __init__(self, c: int, r: int = 4) -> None:
        super().__init__()
        self.fc1, self.bn1 = nn.Conv2d(c, c // r, 1, bias=False), nn.BatchNorm2d(c // r)
        self.fc2, self.bn2 = nn.Conv2d(c // r, c, 1, bias=False), nn.BatchNorm2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = x.mean(dim=(2, 3), keepdim=True)
        g = torch.relu(self.bn1(self.fc1(g)))
        return x * torch.sigmoid(self.bn2(self.fc2(g)))


class Bottleneck(nn.Module):
    def __init__(self, w: list[int], stride: int, residual: bool, se: bool) -> None:
        super().__init__()
        cin, c1, c2, cout = w
        self.conv = ConvBN(cin, c1)
        self.conv_dw = ConvBN(c1, c2, 3, stride, 1, g=c1)
        self.project = ConvBN(c2, cout, act=False)
        if se:
            self.se_module = SE(cout)
        self.residual, self.se = residual, se

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.conv_dw(self.conv(x)))
        if self.se:
            y = self.se_module(y)
        return x + y if self.residual else y


class Stage(nn.Module):
    def __init__(self, blocks: list[Bottleneck]) -> None:
        super().__init__()
        self.model = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class MiniFASNet(nn.Module):
    def __init__(self, k: list[int], se: bool) -> None:
        super().__init__()

        def chain(start: int, n: int) -> list[list[int]]:  # n bottlenecks sharing a stage; 3 widths each
            return [[k[start + 3 * i], k[start + 3 * i + 1], k[start + 3 * i + 2], k[start + 3 * i + 3]] for i in range(n)]

        self.conv1 = ConvBN(3, k[0], 3, 2, 1)
        self.conv2_dw = ConvBN(k[0], k[1], 3, 1, 1, g=k[0])
        self.conv_23 = Bottleneck(chain(1, 1)[0], 2, False, False)
        self.conv_3 = Stage([Bottleneck(w, 1, True, se and i == 3) for i, w in enumerate(chain(4, 4))])
        self.conv_34 = Bottleneck(chain(16, 1)[0], 2, False, False)
        self.conv_4 = Stage([Bottleneck(w, 1, True, se and i == 5) for i, w in enumerate(chain(19, 6))])
        self.conv_45 = Bottleneck(chain(37, 1)[0], 2, False, False)
        self.conv_5 = Stage([Bottleneck(w, 1, True, se and i == 1) for i, w in enumerate(chain(40, 2))])
        self.conv_6_sep = ConvBN(k[46], k[47])
        self.conv_6_dw = ConvBN(k[47], k[48], 5, 1, 0, g=k[47], act=False)
        self.linear = nn.Linear(512, 128, bias=False)
        self.bn = nn.BatchNorm1d(128)
        self.prob = nn.Linear(128, 3, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for m in (self.conv1, self.conv2_dw, self.conv_23, self.conv_3, self.conv_34, self.conv_4, self.conv_45,
                  self.conv_5, self.conv_6_sep, self.conv_6_dw):
            x = m(x)
        return self.prob(self.bn(self.linear(x.flatten(1))))


def upstream_crop(img: np.ndarray, box: list[float], scale: float) -> np.ndarray:
    xyxy = [float(v) for v in np.asarray(box, np.float32)]  # detectors give float32 boxes
    h, w = img.shape[:2]
    x, y = int(xyxy[0]), int(xyxy[1])
    bw, bh = int(xyxy[2] - xyxy[0] + 1), int(xyxy[3] - xyxy[1] + 1)
    scale = min((h - 1) / bh, min((w - 1) / bw, scale))
    cx, cy = bw / 2 + x, bh / 2 + y
    ltx, lty, rbx, rby = cx - bw * scale / 2, cy - bh * scale / 2, cx + bw * scale / 2, cy + bh * scale / 2
    if ltx < 0:
        rbx -= ltx
        ltx = 0
    if lty < 0:
        rby -= lty
        lty = 0
    if rbx > w - 1:
        ltx -= rbx - w + 1
        rbx = w - 1
    if rby > h - 1:
        lty -= rby - h + 1
        rby = h - 1
    a, b, c, d = int(ltx), int(lty), int(rbx), int(rby)
    return cv2.resize(img[b : d + 1, a : c + 1], (80, 80))


def main() -> None:
    nets = []
    for name, _ in NETS:
        model = MiniFASNet(WIDTHS["V1" if "V1SE" in name else "V2"], se="SE" in name)
        state = torch.load(MODELS / name, map_location="cpu", weights_only=False)
        model.load_state_dict({k.removeprefix("module."): v for k, v in state.items()}, strict=True)
        nets.append(model.eval())
    cases = []
    for rel, box in CASES:
        img = cv2.imread(str(DATA / rel))
        entry: dict[str, object] = {"image": rel, "box": box, "crops_sha256": [], "probs": []}
        lives = []
        for (_, scale), model in zip(NETS, nets, strict=True):
            c = upstream_crop(img, box, scale)
            with torch.no_grad():
                p = torch.softmax(model(torch.from_numpy(c.transpose(2, 0, 1)).float()[None]), dim=1)[0].numpy()
            entry["crops_sha256"].append(hashlib.sha256(c.tobytes()).hexdigest())  # type: ignore[union-attr]
            entry["probs"].append([float(v) for v in p])  # type: ignore[union-attr]
            lives.append(float(p[1]))
        entry["live"] = float(np.mean(lives))
        cases.append(entry)
        print(f"{rel}: live {entry['live']:.6f}")
    OUT.write_text(json.dumps({"torch": torch.__version__, "networks": [n for n, _ in NETS], "cases": cases}, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
