"""The HTTP API: REST, OpenAI-compatible chat, citation lookup, probes and metrics.

``create_app(engine)`` builds the app; ``run(app, host, port)`` serves it with uvicorn.
"""

from qa.core.config import ServeSettings
from qa.serve.app import create_app
from qa.serve.routes.chat import MODEL_ID
from qa.serve.server import run

__all__ = ["MODEL_ID", "ServeSettings", "create_app", "run"]
