"""Files the bot shares in the console (the health chart, an export's CSV): saved, not printed.

In Slack a shared file is a card with its title, type and size, opened with a click. The
console does the same in one line and saves the bytes in `missionbot-console-files/` next to
the console's database (in the working directory when the database is a URL), so the chart can
be opened in an image viewer and the CSV in a spreadsheet. Bytes never reach the terminal: a
PNG's would be read as control sequences and leave the terminal in a state where nothing
shows. A name already taken gets `-2`, `-3`, … rather than replacing an earlier file.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from babel.numbers import format_decimal

from bot.i18n import ENGLISH, Speech

FOLDER = "missionbot-console-files"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"%PDF", "application/pdf"))


def folder_for(database_url: str) -> Path:
    """Where shared files go: beside a SQLite database file, else in the working directory."""
    prefix = "sqlite:///"
    path = database_url.removeprefix(prefix) if database_url.startswith(prefix) else ""
    if path and not path.startswith(":memory:"):
        return Path(path).parent / FOLDER
    return Path(FOLDER)


def save(folder: Path, filename: str, content: bytes) -> Path:
    """Writes `content` under `folder` with a safe form of `filename`, never over another file;
    the path written. OSError when the folder can't be made or written."""
    name = _UNSAFE.sub("-", Path(filename).name).strip(".-") or "file"
    stem, dot, suffix = name.rpartition(".") if "." in name else (name, "", "")
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(1, 10_000):
        candidate = folder / (name if number == 1 else f"{stem}-{number}{dot}{suffix}")
        try:
            with candidate.open("xb") as file:
                file.write(content)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{folder} has 10,000 files called {name}")


def kind(filename: str, content: bytes) -> str:
    """The file's media type, by its name or, failing that, its first bytes."""
    guessed, _ = mimetypes.guess_type(filename)
    if guessed:
        return guessed
    sniffed = next((media for magic, media in _MAGIC if content.startswith(magic)), None)
    return sniffed or "application/octet-stream"


def size(length: int, t: Speech = ENGLISH) -> str:
    """A size as people read it: `812 bytes`, `48.2 kB`, `1.3 MB` (`48,2 kB` in German)."""
    if length < 1000:
        return t.ngettext("{count} byte", "{count} bytes", length).format(count=length)
    if length < 1_000_000:
        return f"{format_decimal(length / 1000, '0.0', locale=t.locale)} kB"
    return f"{format_decimal(length / 1_000_000, '0.0', locale=t.locale)} MB"


def shown_path(path: Path) -> str:
    """`path` relative to the working directory when it is under it, else absolute."""
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(absolute)


def problem(error: OSError, t: Speech = ENGLISH) -> str:
    """Why a file could not be saved, in a few words (the system's own reason as it says it)."""
    where = Path(error.filename).name if error.filename else FOLDER
    if isinstance(error, FileExistsError | NotADirectoryError):
        return t.gettext("{name} is not a folder").format(name=where)
    return f"{where}: {error.strerror or type(error).__name__}"
