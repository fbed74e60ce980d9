"""Object storage in a local directory: the embedded default."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from repository.errors import NotFound
from repository.storage import ObjectInfo, Storage, check_key
from repository.system import pid_alive

#: Scratch folder inside the storage directory, on the same filesystem, so that
#: a rename publishes. Never listed; leftovers of a crash are removed on open.
TMP = ".tmp"

_RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_renameat2 = getattr(_libc, "renameat2", None)
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE).

    Returns False where the kernel or filesystem cannot do it.
    """
    if _renameat2 is None:
        return False
    res = _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if res == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalStorage(Storage):
    is_local = True
    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self._root = str(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp = self.root / TMP
        self.tmp.mkdir(exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _tmp_path(self) -> Path:
        # Named after the writing process, so that recover() knows whose it is.
        return self.tmp / f"{os.getpid()}-{uuid.uuid4().hex}"

    def recover(self, older_than: float = 3600) -> None:
        # Scratch of a process that no longer runs (this directory is on this
        # machine's disk, or on a share whose writers a dead pid cannot name:
        # hence the age limit as well).
        limit = time.time() - older_than
        for entry in self.tmp.iterdir():
            pid = entry.name.partition("-")[0]
            dead = pid.isdigit() and not pid_alive(int(pid))
            if dead or entry.lstat().st_mtime < limit:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)

    def _place(self, tmp: Path, key: str) -> None:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, dest)
        fsync_dir(dest.parent)

    def put(self, key: str, data: bytes) -> None:
        tmp = self._tmp_path()
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        self._place(tmp, key)

    def put_file(self, key: str, path: Path) -> None:
        tmp = self._tmp_path()
        shutil.copyfile(path, tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        self._place(tmp, key)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"no object {key!r} in storage") from None

    def get_range(self, key: str, start: int, length: int) -> bytes:
        try:
            with open(self._path(key), "rb") as fh:
                return os.pread(fh.fileno(), length, start)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFound(f"no object {key!r} in storage") from None

    def stat(self, key: str) -> ObjectInfo:
        # On every image request: one system call, plain strings.
        try:
            st = os.stat(f"{self._root}/{check_key(key)}")
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"no object {key!r} in storage") from None
        if not stat.S_ISREG(st.st_mode):
            raise NotFound(f"no object {key!r} in storage")
        tag = f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"
        return ObjectInfo(key=key, size=st.st_size, mtime=st.st_mtime, etag=tag)

    def list(self, prefix: str = "") -> Iterator[str]:
        base = self.root / prefix.strip("/") if prefix else self.root
        if base.is_dir():
            yield from self._walk(base)

    def _walk(self, folder: Path) -> Iterator[str]:
        # Sorted as object stores sort keys: a folder "b" sorts as "b/".
        entries = sorted(os.scandir(folder),
                         key=lambda e: e.name + "/" if e.is_dir(follow_symlinks=False) else e.name)
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if Path(entry.path) != self.tmp:
                    yield from self._walk(Path(entry.path))
            else:
                yield Path(entry.path).relative_to(self.root).as_posix()

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        # Remove folders the deletion emptied, up to the storage root.
        parent = path.parent
        while parent != self.root:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def delete_prefix(self, prefix: str) -> None:
        target = self.root / check_key(prefix.strip("/"))
        if target.is_dir():
            trash = self._tmp_path()
            os.rename(target, trash)
            shutil.rmtree(trash, ignore_errors=True)

    def publish(self, staged: Path, prefix: str) -> None:
        # The new tree is assembled beside the old one (hard links to the files
        # that stay, the staged files moved in), then swapped in with one
        # rename: readers and a crash see the old tree or the new, never a mix.
        staged = Path(staged)
        dest = self._path(prefix.strip("/"))
        tree = self._tmp_path()
        if dest.is_dir():
            shutil.copytree(dest, tree, copy_function=os.link)
        else:
            tree.mkdir()
        for src in sorted(p for p in staged.rglob("*") if not p.is_dir()):
            target = tree / src.relative_to(staged)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(src, target)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                shutil.copyfile(src, target)
        shutil.rmtree(staged, ignore_errors=True)
        _fsync_tree(tree)
        if not dest.exists():
            # Missing parent folders are built inside the scratch tree too and moved
            # in with the same rename, so a crash never leaves empty folders behind
            # (an OCFL validator rejects them).
            top = dest
            while not top.parent.exists():
                top = top.parent
            wrapper = self._tmp_path()
            inner = wrapper / dest.relative_to(top.parent)
            inner.parent.mkdir(parents=True)
            os.rename(tree, inner)
            os.rename(wrapper / top.name, top)
            wrapper.rmdir()
        elif exchange(tree, dest):
            shutil.rmtree(tree, ignore_errors=True)  # now holds the old tree
        else:
            # No atomic swap on this system (not Linux, or a filesystem without
            # RENAME_EXCHANGE): the old tree is moved aside for an instant, and a
            # crash inside that instant leaves it under .tmp for an operator to
            # put back. Production runs on Linux, where the branch above is taken.
            aside = self._tmp_path()
            os.rename(dest, aside)
            os.rename(tree, dest)
            shutil.rmtree(aside, ignore_errors=True)
        fsync_dir(dest.parent)

    def local_path(self, key: str) -> Path | None:
        name = f"{self._root}/{check_key(key)}"
        return Path(name) if os.path.isfile(name) else None


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))

