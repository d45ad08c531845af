"""What the CLI shows a person: consoles that never wrap piped output, answers with
their span highlighted, progress bars on a terminal and progress lines elsewhere."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape as _markup_escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from qa.core.types import Response, confidence_in_words

# Control characters in questions and documents (ANSI escapes, carriage returns, bells)
# would act on the terminal; they are shown as U+FFFD instead. Tabs and newlines stay.
_CONTROL = {c: "\ufffd" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if c not in (9, 10)}


def escape(text: str) -> str:
    """``text`` for rich markup: markup escaped, terminal control characters made visible."""
    return _markup_escape(text.replace("\r\n", "\n").translate(_CONTROL))


def make_console(stderr: bool = False) -> Console:
    """Rich output: wrapped to a terminal's width, but never wrapped or cut when piped."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    # Piped or redirected: one line per line (ids stay whole for grep), tables uncut.
    return Console(stderr=stderr, soft_wrap=True, width=250)


console = make_console()
err = make_console(stderr=True)


_STAGES = {
    "read": ("reading", "files", 1),
    "chunk": ("chunking", "MB of text", 1e6),
    "embed": ("embedding", "passages", 1),
    "index": ("indexing", "MB of files", 1e6),
}


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[done]} / {task.fields[total]} {task.fields[unit]}"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


def with_progress(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
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
        places = 1 if total >= scale else 3  # a small folder is not "0.0 / 0.0 MB"
        shown = {
            "done": f"{done / scale:,.{places}f}" if scale > 1 else f"{done:,}",
            "total": f"{total / scale:,.{places}f}" if scale > 1 else f"{total:,}",
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


def show_response(resp: Response) -> None:
    from qa.engine import NO_ANSWER

    console.print(f"[bold]Q:[/bold] {escape(resp.question)}")
    a = resp.answer
    if a is None:
        console.print(f"[bold]A:[/bold] [yellow]{NO_ANSWER}[/yellow] Closest passages:")
    else:
        n = resp.answer_citation
        sure = "" if a.confidence is None else f"  {confidence_in_words(a.confidence)}"
        console.print(
            f"[bold]A:[/bold] [bold green]{escape(a.text)}[/bold green] [{n}]{sure}"
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
        where = f"page {c.page}, " if c.page else ""
        section = f"  § {escape(c.section)}" if c.section else ""
        console.print(
            f"\n[bold cyan][{c.n}][/bold cyan] {escape(c.title)}{section}  "
            f"[dim]{escape(c.source)} {where}chars {c.start}–{c.end}  id {c.id}"
            f"{'' if c.read else '  (not read: far below the best)'}[/dim]"
        )
        console.print(body, highlight=False)
    t = resp.timings_ms
    console.print(
        f"\n[dim]{t.get('total', 0):.0f} ms (encode {t.get('encode', 0):.0f}, "
        f"retrieve {t.get('retrieve', 0):.0f}, read {t.get('read', 0):.0f})[/dim]"
    )


def show_report(report: Any, verb: str = "indexed") -> None:
    """A write's summary on stderr: one line of counts, then each skipped file's reason."""
    for line in report.skip_lines():
        err.print(f"[yellow]{escape(line)}[/yellow]", highlight=False)
    err.print(escape(report.summary()), highlight=False)
