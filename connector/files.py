"""Files with personal data: created 0600 in folders created 0700, whatever the umask.

- :func:`prepare_store_file` makes the SQLite state store's file before SQLite does (SQLite
  gives its ``-wal``, ``-shm`` and ``-journal`` files the database file's own mode), refusing
  paths that are not a regular file: a folder, ``/dev/null`` (SQLite would create
  ``/dev/null-journal``), a pipe.
- :func:`write_private` writes a report through a temporary file in the same folder and an
  atomic rename, and refuses a symbolic link (a planted link would otherwise redirect the
  write onto its target).

Every failure is a :class:`FileError` with one line naming the path and the reason.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


class FileError(Exception):
    """A path that cannot be used, phrased as one line for the user."""


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return "file name too long"
    return (exc.strerror or type(exc).__name__).lower()


def _checked(path: str | os.PathLike[str], what: str) -> Path:
    text = os.fspath(path)
    if not text:
        raise FileError(f"{what}: no path given")
    if "\x00" in text:
        raise FileError(f"{what}: {text!r}: contains a NUL byte")
    return Path(text)


def private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents with mode 0700 (existing folders are left)."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        if current.is_symlink():  # a dangling link: do not create through it
            raise FileError(f"{current}: is a dangling symbolic link")
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(folder, DIR_MODE)  # mkdir's mode is reduced by the umask; this is not


def prepare_store_file(path: str | os.PathLike[str]) -> Path:
    """The state store's file, created empty with mode 0600 if missing (folders 0700), or
    tightened to 0600 if it exists; a FileError for a path that cannot be one."""
    where = _checked(path, "store.url")
    try:
        if where.exists():
            info = where.stat()
            if stat.S_ISDIR(info.st_mode):
                raise FileError(f"store.url: {where} is a folder, not a database file")
            if not stat.S_ISREG(info.st_mode):
                raise FileError(
                    f"store.url: {where} is not a regular file (a device, a pipe or a socket)"
                )
            _tighten(where)
            return where
        private_dir(where.parent)
        try:
            fd = os.open(where, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
        except FileExistsError:  # another kravsync process created it just now
            return prepare_store_file(path)
        os.close(fd)
        os.chmod(where, FILE_MODE)
    except FileError:
        raise
    except OSError as exc:
        raise FileError(f"store.url: cannot create {where}: {_reason(exc)}") from None
    except ValueError as exc:  # e.g. an embedded NUL that os functions refuse
        raise FileError(f"store.url: {where!s}: {exc}") from None
    return where


def _tighten(path: Path) -> None:
    """0600 for the store file and its SQLite side files, where we own them."""
    for one in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            info = one.stat()
            if info.st_uid == os.getuid() and info.st_mode & 0o077:
                os.chmod(one, FILE_MODE)
        except OSError:
            continue


def write_private(path: str | os.PathLike[str], text: str, *, what: str = "--output") -> None:
    """Write ``text`` (UTF-8) to ``path`` with mode 0600, atomically: a temporary file in the
    same folder, then a rename over ``path``. A symbolic link or a folder at ``path`` is
    refused; a missing folder is not created."""
    target = _checked(path, what)
    if target.is_symlink():
        raise FileError(f"{what}: {target} is a symbolic link; refusing to write through it")
    if target.is_dir():
        raise FileError(f"{what}: {target} is a folder; give a file name")
    folder = target.parent
    if not folder.is_dir():
        raise FileError(f"{what}: folder {folder} does not exist")
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise FileError(f"{what}: cannot write {target}: {_reason(exc)}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


__all__ = ["FileError", "prepare_store_file", "private_dir", "write_private"]
