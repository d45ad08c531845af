"""The client of a running ``qa serve``: ``qa ask`` hands questions there when it holds the
same index, so the models stay warm."""

from __future__ import annotations

import json
from pathlib import Path

from qa.core.config import ServeSettings
from qa.core.errors import QAError
from qa.core.types import Response


class Server:
    """A running ``qa serve`` that holds the same index: questions go there, models stay warm."""

    def __init__(self, url: str, key: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.headers = {"content-type": "application/json"}
        if key:
            self.headers["authorization"] = f"Bearer {key}"

    def _call(self, path: str, body: dict | None = None, timeout: float = 60.0) -> dict:
        import urllib.request

        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, headers=self.headers)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())

    @classmethod
    def find(cls, index_dir: Path | None, required: bool) -> Server | None:
        """The server at $QA_SERVER_URL (default 127.0.0.1:8000) if it serves ``index_dir``
        (with $QA_API_KEY as its key; None: whatever index it serves)."""
        import http.client

        from qa.index.manifest import index_fingerprint

        settings = ServeSettings.from_env()
        server = cls(settings.server_url, settings.api_key)
        try:
            ready = server._call("/readyz", timeout=5.0 if required else 0.5)
            if not isinstance(ready, dict):
                raise ValueError("its /readyz is not a qa server's")
        except (OSError, ValueError, http.client.HTTPException) as e:
            if required and getattr(e, "code", None) == 401:
                raise QAError(
                    f"the qa server at {server.url} needs an API key: set QA_API_KEY to its "
                    "key, or use --local"
                ) from None
            if required:
                raise QAError(
                    f"no qa server answers at {server.url} ({e}); start one with "
                    "'qa serve' or drop --server"
                ) from None
            return None
        if index_dir is not None and ready.get("index") != index_fingerprint(index_dir):
            if required:
                raise QAError(
                    f"the server at {server.url} serves another index than "
                    f"{index_dir}/; restart it or drop --server"
                )
            return None
        return server

    def ask(
        self, question: str, k: int | None = None, where: dict[str, list[str]] | None = None
    ) -> Response:
        import urllib.error

        from qa.core.types import response_from_dict

        body: dict[str, object] = {"question": question}
        if k is not None:
            body["k"] = k
        if where:
            body["filter"] = where
        try:
            return response_from_dict(self._call("/v1/ask", body))
        except urllib.error.HTTPError as e:
            try:
                message = json.loads(e.read())["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {e.code}"
            raise QAError(message) from None
