"""The command line: ``qa index``, ``add``, ``rm``, ``docs``, ``ask``, ``cite`` and more.

Heavy libraries load inside commands, so ``qa --help`` stays instant.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qa.cli.client import Server
from qa.cli.render import console, err, escape, show_report, show_response, with_progress
from qa.core.config import MAX_K, Settings
from qa.core.errors import NotFound, QAError

app = typer.Typer(
    help="Source-grounded extractive question answering with exact citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


StrictOpt = Annotated[
    bool,
    typer.Option("--strict", help="Fail (and change nothing) if any file would be skipped."),
]
IndexOpt = Annotated[
    Path | None,
    typer.Option("--index", help="Index folder (default: index/default, or $QA_INDEX_DIR)."),
]

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Keep the index in Milvus instead of the folder: milvus://host:19530/collection, "
        "or file:///path/milvus.db for milvus-lite ($QA_STORE).",
    ),
]


def _engine(index: Path | None, store: str | None = None):
    from qa.engine import Engine

    return Engine(Settings.from_env(index_dir=index, store=store))


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
    strict: StrictOpt = False,
    store: StoreOpt = None,
    restart: Annotated[
        bool,
        typer.Option(
            "--restart",
            help="Start from zero: discard what an interrupted rebuild had done (without it, "
            "running the same command again resumes it).",
        ),
    ] = False,
) -> None:
    """Build the index from files and folders (.pdf, .docx, .html, .md, .rst, .txt, man pages,
    Info manuals).

    Files are embedded a batch at a time; an interrupted rebuild resumes when the same
    command runs again. Documents already indexed that are not from these paths are kept
    (and said so), unless --replace."""
    if not paths:
        if not Path("seeds").is_dir():
            raise QAError(
                "no files or folders given, and no seeds/ folder here to index by default: "
                "name what to index, e.g. qa index docs/"
            )
        paths = [Path("seeds")]
    engine = _engine(index, store)
    if if_stale and not engine.is_stale(paths):
        err.print(f"index at {engine.location.describe()} is up to date")
        return
    built = with_progress(engine.index, paths, replace=replace, strict=strict, restart=restart)
    store = built.store
    for line in built.report.skip_lines():
        err.print(f"[yellow]{escape(line)}[/yellow]", highlight=False)
    skipped = built.report.summary().split("; ", 1)[1]
    err.print(
        f"indexed {len(store.documents)} documents, {len(store)} passages "
        f"into {engine.location.describe()}; {skipped}"
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
    strict: StrictOpt = False,
    prune: Annotated[
        bool,
        typer.Option("--prune", help="Also remove every document not in these paths (= qa sync)."),
    ] = False,
    store: StoreOpt = None,
) -> None:
    """Add documents to the index: new files are added, edited ones replaced, unchanged
    ones left as they are; ends with a summary, skipped files with their reasons."""
    _write(index, paths, strict, prune, store)


@app.command()
def sync(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders the index should hold.")],
    index: IndexOpt = None,
    strict: StrictOpt = False,
    store: StoreOpt = None,
) -> None:
    """Bring the index to exactly these files: add new ones, replace edited ones, remove
    documents whose files are gone (and any other document); only changes are embedded."""
    _write(index, paths, strict, True, store)


def _write(
    index: Path | None, paths: list[Path], strict: bool, prune: bool, store: str | None
) -> None:
    engine = _engine(index, store)
    report = with_progress(engine.add, paths, strict=strict, prune=prune)
    for verb, docs in (
        ("added", report.added),
        ("replaced", report.replaced),
        ("removed", report.removed),
    ):
        for d in docs:
            console.print(f"{verb} {d.id}  {escape(d.source)}")
    if not report.changed:
        console.print("nothing changed: every document is already indexed as it is")
    show_report(report)


@app.command()
def rm(
    doc_id: Annotated[str, typer.Argument(help="Document id (see 'qa docs').")],
    index: IndexOpt = None,
    store: StoreOpt = None,
) -> None:
    """Remove a document from the index."""
    doc = _engine(index, store).remove(doc_id)
    console.print(f"removed {doc.id}  {escape(doc.source)}")


@app.command()
def docs(
    index: IndexOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    store: StoreOpt = None,
) -> None:
    """List the indexed documents."""
    rows = _engine(index, store).documents()
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    cols = ("id", "source", "title", "format", "pages", "chars", "passages")
    table = Table(*cols)
    for r in rows:
        table.add_row(*(escape("" if r[k] is None else str(r[k])) for k in cols))
    console.print(table)


@app.command()
def ask(
    question: Annotated[
        str, typer.Argument(help="The question, or - to read one per line from stdin.")
    ],
    k: Annotated[
        int | None,
        typer.Option("-k", min=1, max=MAX_K, help="Passages to cite; the best of them are read."),
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
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            help="Only documents whose field matches a glob: source=contracts/*, format=pdf, "
            "or a front-matter field; repeat for more (all must match).",
        ),
    ] = None,
    doc: Annotated[
        list[str] | None, typer.Option("--doc", help="Only this document id (repeatable).")
    ] = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
) -> None:
    """Answer a question with a verbatim span of the sources and the passages that prove it."""
    from qa.core.filters import parse_where
    from qa.core.types import response_to_dict

    filters = parse_where(where or [], doc or []) or None

    settings = Settings.from_env(index_dir=index, store=store)
    # A server over Milvus is asked only when named (--server): its index is not a folder
    # here whose fingerprint the client could compare with the server's.
    ask_server = server is True or (server is None and not settings.store)
    folder = None if settings.store else settings.index_dir
    remote = Server.find(folder, server is True) if ask_server else None
    engine = remote or _engine(index, store)
    questions = [q for q in map(str.strip, _stdin_lines()) if q] if question == "-" else [question]
    failed = 0
    for q in questions:
        try:
            resp = engine.ask(q, k, where=filters) if filters else engine.ask(q, k)
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
            show_response(resp)
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
    store: StoreOpt = None,
) -> None:
    """Show the exact passage behind a citation id, with its document, offsets and context."""
    engine = _engine(index, store)
    try:
        c = engine.cite(citation_id)
    except NotFound as e:  # say which index was searched: the default one, if none was given
        raise NotFound(f"{e}; searched {engine.location.describe()}") from None
    if as_json:
        print(json.dumps(c, ensure_ascii=False))
        return
    page = f"page {c['page']}  " if c.get("page") else ""
    section = f"  § {escape(str(c['section']))}" if c.get("section") else ""
    console.print(
        f"[bold]{escape(str(c['title']))}[/bold]{section}  [dim]{escape(str(c['source']))}  "
        f"doc {c['doc_id']}  {page}chars {c['start']}–{c['end']}[/dim]\n"
    )
    if not console.is_terminal:  # no bold to tell the passage from its context: mark it
        before, after = str(c["context_before"]).rstrip(), str(c["context_after"]).lstrip()
        console.print(
            f"…{escape(before)}\n----- the passage, chars {c['start']}–{c['end']} -----\n"
            f"{escape(str(c['text']))}\n----- end of the passage -----\n{escape(after)}…",
            highlight=False,
        )
        return
    console.print(
        f"[dim]…{escape(str(c['context_before']))}[/dim][bold]{escape(str(c['text']))}"
        f"[/bold][dim]{escape(str(c['context_after']))}…[/dim]",
        highlight=False,
    )


@app.command()
def migrate(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="Where to copy the index: milvus://host:19530/collection, "
            "file:///path/milvus.db, or a folder. What was there is replaced.",
        ),
    ],
    index: IndexOpt = None,
    store: StoreOpt = None,
) -> None:
    """Copy the index (documents, passages and vectors: nothing is embedded again) into
    another store, e.g. from the folder into Milvus; the index copied from is unchanged."""
    source = _engine(index, store)
    folder = "://" not in to
    target = _engine(Path(to) if folder else index, "" if folder else to).location
    held = source.store  # opened (and checked) before anything is written
    target.check()
    with target.lock(source.lock_timeout):
        target.save(held)
    err.print(
        f"copied {len(held.documents)} documents, {len(held)} passages from "
        f"{source.location.describe()} to {target.describe()}"
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
    store: StoreOpt = None,
) -> None:
    """Serve the HTTP API (REST, OpenAI-compatible chat, citation lookup) with uvicorn.

    SIGTERM or Ctrl-C stops it gracefully: questions in flight and index writes finish."""
    import logging

    from qa.engine import Engine
    from qa.serve import ServeSettings, create_app, logs, run

    settings = ServeSettings.from_env(
        max_in_flight=max_in_flight, log_level=log_level or None, log_format=log_format or None
    )
    logs.configure(settings.log_level, settings.log_format)
    log = logging.getLogger("qa.serve")
    engine = Engine(Settings.from_env(index_dir=index, store=store))
    log.info("loading the index and models from %s", engine.location.describe())
    engine.load()
    log.info("serving on http://%s:%d (docs at /docs)", host, port)
    run(create_app(engine, settings), host, port, header_timeout_s=settings.header_timeout_s)


def _register_reader_commands() -> None:
    import qa.train.cli as cli_reader

    app.command("train-reader")(cli_reader.train_reader_cmd)
    app.command("eval")(cli_reader.eval_cmd)
    app.command("calibrate-reader")(cli_reader.calibrate_cmd)
    app.command("tune-length")(cli_reader.tune_length_cmd)
    app.command("tune-retrieval")(cli_reader.tune_retrieval_cmd)


_register_reader_commands()


def _show_logs() -> None:
    """Warnings from the library on stderr, and the one-off model builds (seconds of work
    on first use) as they start; `qa serve` sets up its own logging instead."""
    import logging

    handler = logging.StreamHandler()
    handler.setLevel(logging.INFO)  # libraries that set their own loggers to DEBUG stay quiet
    handler.setFormatter(logging.Formatter("qa: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    for name in ("qa.index.embed", "qa.index.stream", "qa.read.runtime"):
        logging.getLogger(name).setLevel(logging.INFO)


def main() -> None:
    """Entry point: user errors print one line and exit 1, never a traceback."""
    _show_logs()
    try:
        app()
    except QAError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}")
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
