"""Container liveness probe: exit 0 when qa serve answers GET /healthz with 200, else 1.

The slim image has no curl, so the Dockerfile's HEALTHCHECK and compose.yaml run this
with the image's python (standard library only). /healthz never needs the API key.
Port: $QA_PORT (default 8000); host: 127.0.0.1, inside the container.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('QA_PORT') or '8000'}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as r:
            return 0 if r.status == 200 else 1
    except Exception as e:  # refused, timed out, HTTP error: all mean "not healthy"
        print(f"healthcheck: {url}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
