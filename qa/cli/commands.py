"""The command line: ``qa index``, ``add``, ``rm``, ``docs``, ``ask``, ``cite`` and more.

Heavy libraries load inside commands, so ``qa --help`` stays instant.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape as _markup_escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from qa.core.config import Settings
from qa.core.errors import QAError

# Control characters in questions and documents (ANSI escapes, carriage returns, bells)
# would act on the terminal; they are shown as U+FFFD instead. Tabs and newlines stay.
_CONTROL = {c: "\ufffd" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if c not in (9, 10)}


def escape(text: str) -> str:
    """``text`` for rich markup: markup escaped, terminal control characters made visible."""
    return _markup_escape(text.replace("\r\n", "\n").translate(_CONTROL))


app = typer.Typer(
    help="Source-grounded extractive question answering with exact citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _console(stderr: bool = False) -> Console:
    """Rich output: wrapped to a terminal's width, but never wrapped or cut when piped."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    # Piped or redirected: one line per line (ids stay whole for grep), tables uncut.
    return Console(stderr=stderr, soft_wrap=True, width=250)


console = _console()
err = _console(stderr=True)

IndexOpt = Annotated[
    Path | None,
    typer.Option("--index", help="Index folder (default: index/default, or $QA_INDEX_DIR)."),
]


def _engine(index: Path | None):
    from qa.engine import Engine

    return Engine(Settings.from_env(index_dir=index))


_STAGES = {"chunk": ("chunking", "MB of text", 1e6), "embed": ("embedding", "passages", 1)}


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[done]} / {task.fields[total]} {task.fields[unit]}"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


def _with_progress(fn, *args, **kwargs):
    """Run ``fn(*args, progress=…)``: a bar on a terminal, else a line every few seconds
    (logs, pipes, CI). Nothing shows before the first report (after the input was read and
    checked), so an early error is not drawn under an empty bar."""
    if not err.is_terminal:
        from qa.core.progress import Reporter

        return fn(*args, progress=Reporter(lambda line: err.print(line, highlight=False)), **kwargs)
    bar = _progress_bar()
    tasks: dict[str, object] = {}

    def progress(stage: str, done: int, total: int) -> None:
        label, unit, scale = _STAGES.get(stage, (stage, "", 1))
        shown = {
            "done": f"{done / scale:,.1f}" if scale > 1 else f"{done:,}",
            "total": f"{total / scale:,.1f}" if scale > 1 else f"{total:,}",
            "unit": unit,
        }
        if stage not in tasks:
            if not tasks:
                bar.start()
            tasks[stage] = bar.add_task(label, total=total, **shown)
        bar.update(tasks[stage], completed=done, total=total, **shown)

    try:
        return fn(*args, progress=progress, **kwargs)
    finally:
        if tasks:
            bar.stop()


@app.command()
def index(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to index (default: the seeds/ folder here)."),
    ] = None,
    index: IndexOpt = None,
    if_stale: Annotated[
        bool, typer.Option("--if-stale", help="Rebuild only if the sources or settings changed.")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Drop the documents that are not from these paths (added through the API or "
            "from other folders); without it they are kept.",
        ),
    ] = False,
) -> None:
    """Build the index from files and folders (.txt, .md, .html).

    Documents already indexed that are not from these paths are kept (and said so), unless
    --replace."""
    if not paths:
        if not Path("seeds").is_dir():
            raise QAError(
                "no files or folders given, and no seeds/ folder here to index by default: "
                "name what to index, e.g. qa index docs/"
            )
        paths = [Path("seeds")]
    engine = _engine(index)
    if if_stale and not engine.is_stale(paths):
        err.print(f"index at {engine.settings.index_dir}/ is up to date")
        return
    built = _with_progress(engine.index, paths, replace=replace)
    store = built.store
    err.print(
        f"indexed {len(store.documents)} documents, {len(store)} passages "
        f"into {engine.settings.index_dir}/"
    )
    for verb, docs in (("kept", built.kept), ("dropped", built.dropped)):
        if docs:
            shown = ", ".join(escape(d.source) for d in docs[:3]) + (", …" if len(docs) > 3 else "")
            hint = "; --replace drops them" if verb == "kept" else ""
            err.print(
                f"{verb} {len(docs)} document(s) that are not from these paths "
                f"(added through the API or from other folders): {shown}{hint}"
            )


@app.command()
def add(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to add.")],
    index: IndexOpt = None,
) -> None:
    """Add documents to the index (already-indexed contents are skipped)."""
    engine = _engine(index)
    added = _with_progress(engine.add, paths)
    for d in added:
        console.print(f"added {d.id}  {escape(d.source)}")
    if not added:
        console.print("nothing new: every document is already indexed")


@app.command()
def rm(
    doc_id: Annotated[str, typer.Argument(help="Document id (see 'qa docs').")],
    index: IndexOpt = None,
) -> None:
    """Remove a document from the index."""
    doc = _engine(index).remove(doc_id)
    console.print(f"removed {doc.id}  {escape(doc.source)}")


@app.command()
def docs(
    index: IndexOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """List the indexed documents."""
    rows = _engine(index).documents()
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("id", "source", "title", "chars", "passages")
    for r in rows:
        table.add_row(*(escape(str(r[k])) for k in ("id", "source", "title", "chars", "passages")))
    console.print(table)


def _render(resp) -> None:
    from qa.engine import NO_ANSWER

    console.print(f"[bold]Q:[/bold] {escape(resp.question)}")
    a = resp.answer
    if a is None:
        console.print(f"[bold]A:[/bold] [yellow]{NO_ANSWER}[/yellow] Closest passages:")
    else:
        n = resp.answer_citation
        console.print(
            f"[bold]A:[/bold] [bold green]{escape(a.text)}[/bold green] [{n}]"
            f"  [dim](score {a.score:.2f})[/dim]"
        )
    for c in resp.citations:
        text = c.text
        if a is not None and c.id == a.passage_id:
            s, e = a.start - c.start, a.end - c.start
            body = (
                escape(text[:s])
                + "[bold green on grey15]"
                + escape(text[s:e])
                + "[/bold green on grey15]"
                + escape(text[e:])
            )
        else:
            body = escape(text if len(text) <= 300 else text[:300] + "…")
        console.print(
            f"\n[bold cyan][{c.n}][/bold cyan] {escape(c.title)}  "
            f"[dim]{escape(c.source)} chars {c.start}–{c.end}  id {c.id}"
            f"{'' if c.read else '  (not read: far below the best)'}[/dim]"
        )
        console.print(body, highlight=False)
    t = resp.timings_ms
    console.print(
        f"\n[dim]{t.get('total', 0):.0f} ms (encode {t.get('encode', 0):.0f}, "
        f"retrieve {t.get('retrieve', 0):.0f}, read {t.get('read', 0):.0f})[/dim]"
    )


class _Server:
    """A running ``qa serve`` that holds the same index: questions go there, models stay warm."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        key = os.environ.get("QA_API_KEY")
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
    def find(cls, index_dir: Path, required: bool) -> _Server | None:
        """The server at $QA_SERVER_URL (default 127.0.0.1:8000) if it serves ``index_dir``."""
        import http.client

        from qa.index.manifest import index_fingerprint

        server = cls(os.environ.get("QA_SERVER_URL", "http://127.0.0.1:8000"))
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
        if ready.get("index") != index_fingerprint(index_dir):
            if required:
                raise QAError(
                    f"the server at {server.url} serves another index than "
                    f"{index_dir}/; restart it or drop --server"
                )
            return None
        return server

    def ask(self, question: str, k: int | None):
        import urllib.error

        from qa.core.types import response_from_dict

        body: dict[str, object] = {"question": question}
        if k is not None:
            body["k"] = k
        try:
            return response_from_dict(self._call("/v1/ask", body))
        except urllib.error.HTTPError as e:
            try:
                message = json.loads(e.read())["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {e.code}"
            raise QAError(message) from None


@app.command()
def ask(
    question: Annotated[
        str, typer.Argument(help="The question, or - to read one per line from stdin.")
    ],
    k: Annotated[
        int | None,
        typer.Option("-k", min=1, max=50, help="Passages to cite; the best of them are read."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per question.")] = False,
    server: Annotated[
        bool | None,
        typer.Option(
            "--server/--local",
            help="Ask a running 'qa serve' ($QA_SERVER_URL, default http://127.0.0.1:8000) or "
            "load the models here. Default: the server when it holds the same index.",
        ),
    ] = None,
    index: IndexOpt = None,
) -> None:
    """Answer a question with a verbatim span of the sources and the passages that prove it."""
    from qa.core.types import response_to_dict

    settings = Settings.from_env(index_dir=index)
    remote = None if server is False else _Server.find(settings.index_dir, server is True)
    engine = remote or _engine(index)
    questions = [q for q in map(str.strip, _stdin_lines()) if q] if question == "-" else [question]
    failed = 0
    for q in questions:
        try:
            resp = engine.ask(q, k)
        except QAError as e:
            if question != "-" and not as_json:
                raise
            failed += 1
            if as_json:  # errors on the same channel as answers, one object per question
                print(json.dumps({"question": _valid_text(q), "error": str(e)}), flush=True)
            else:
                console.print(f"[red]error:[/red] {escape(str(e))}")
            continue
        if as_json:
            print(json.dumps(response_to_dict(resp), ensure_ascii=False), flush=True)
        else:
            _render(resp)
            if len(questions) > 1:
                console.rule() if console.is_terminal else console.print("---")
    if failed:
        raise typer.Exit(1)  # a script can tell that some questions got no answer


def _stdin_lines() -> list[str]:
    """Lines of stdin as UTF-8; bytes that are not UTF-8 are kept (as lone surrogates) for
    the question check to name, whatever the locale's own error handling."""
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:
        return list(sys.stdin)
    return [line.decode("utf-8", "surrogateescape") for line in raw]


def _valid_text(text: str) -> str:
    """``text`` with bytes that were not UTF-8 (read as lone surrogates) shown as U+FFFD."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        return text.encode("utf-8", "replace").decode("utf-8")


@app.command()
def cite(
    citation_id: Annotated[str, typer.Argument(help="A citation id from 'qa ask'.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    index: IndexOpt = None,
) -> None:
    """Show the exact passage behind a citation id, with its document, offsets and context."""
    c = _engine(index).cite(citation_id)
    if as_json:
        print(json.dumps(c, ensure_ascii=False))
        return
    console.print(
        f"[bold]{escape(str(c['title']))}[/bold]  [dim]{escape(str(c['source']))}  "
        f"doc {c['doc_id']}  chars {c['start']}–{c['end']}[/dim]\n"
    )
    console.print(
        f"[dim]…{escape(str(c['context_before']))}[/dim][bold]{escape(str(c['text']))}"
        f"[/bold][dim]{escape(str(c['context_after']))}…[/dim]",
        highlight=False,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    max_in_flight: Annotated[
        int | None,
        typer.Option(
            help="Questions answered at once ($QA_MAX_IN_FLIGHT, default 4); more wait in a "
            "bounded queue ($QA_QUEUE, $QA_QUEUE_WAIT_S), then get 503 + Retry-After.",
            min=1,
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option(help="debug, info, warning or error ($QA_LOG_LEVEL).")
    ] = "",
    log_format: Annotated[
        str,
        typer.Option(help="json, text, or auto: text on a terminal, else JSON ($QA_LOG_FORMAT)."),
    ] = "",
    index: IndexOpt = None,
) -> None:
    """Serve the HTTP API (REST, OpenAI-compatible chat, citation lookup) with uvicorn.

    SIGTERM or Ctrl-C stops it gracefully: questions in flight and index writes finish."""
    import logging

    from qa.engine import Engine
    from qa.serve import ServeSettings, create_app, logs, run

    logs.configure(
        log_level or os.environ.get("QA_LOG_LEVEL", "info"),
        log_format or os.environ.get("QA_LOG_FORMAT", "auto"),
    )
    log = logging.getLogger("qa.serve")
    settings = ServeSettings.from_env(max_in_flight=max_in_flight)
    engine = Engine(Settings.from_env(index_dir=index))
    log.info("loading the index and models from %s/", engine.settings.index_dir)
    engine.load()
    log.info("serving on http://%s:%d (docs at /docs)", host, port)
    run(create_app(engine, settings), host, port)


def _register_reader_commands() -> None:
    from qa.train import cli as cli_reader

    app.command("train-reader")(cli_reader.train_reader_cmd)
    app.command("eval")(cli_reader.eval_cmd)
    app.command("calibrate-reader")(cli_reader.calibrate_cmd)
    app.command("tune-length")(cli_reader.tune_length_cmd)
    app.command("tune-retrieval")(cli_reader.tune_retrieval_cmd)


_register_reader_commands()


def main() -> None:
    """Entry point: user errors print one line and exit 1, never a traceback."""
    try:
        app()
    except QAError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
