"""User-supplied text on the terminal: always literal (never rich markup) and clipped for display.

Titles, user ids, names and paths come from input files; `[red]bob` must print as `[red]bob`, a
stray `[/]` must not crash a table, and a 1 MB title must not flood the terminal (the store keeps
it whole; only the display is clipped)."""

from __future__ import annotations

from rich.text import Text

MAX_CHARS = 200  # per displayed value


def clip(value: object, max_chars: int = MAX_CHARS) -> str:
    """The value as one display string of at most about `max_chars` characters."""
    s = str(value)
    if len(s) <= max_chars:
        return s
    return f"{s[: max_chars - 1]}… (+{len(s) - max_chars + 1} chars)"


def text(value: object, max_chars: int = MAX_CHARS, style: str = "") -> Text:
    """A rich Text that renders the value literally."""
    return Text(clip(value, max_chars), style=style)


def lines(values, max_chars: int = MAX_CHARS) -> Text:
    """Several values, one per line, each literal and clipped."""
    return Text("\n").join(text(v, max_chars) for v in values)
