"""``python -m faceprint.service.healthcheck``: exit 0 when this machine's service answers /ready.

The container's HEALTHCHECK. It asks ``127.0.0.1:$FACEPRINT_PORT`` (default 8000) with the standard
library only, so a check costs no third-party import and never leaves the host.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def ready(port: int, timeout_s: float = 4.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=timeout_s) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main() -> int:
    port = int(os.environ.get("FACEPRINT_PORT") or 8000)
    ok = ready(port)
    print(f"/ready on port {port}: {'ok' if ok else 'not ready'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
