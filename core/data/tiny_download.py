"""Fetching tiny-ImageNet's zip when the machine is online: streamed with progress, checked, then unpacked.

The data set's usual zip (``tiny_imagenet.DOWNLOAD_URL``, about 240 MB) is written to a temporary file beside
the data folder while its digest is computed; a file whose digest is not the published one (a cut download, a
proxy's error page) is removed and said, and nothing is unpacked. The zip is unpacked into a temporary folder,
its layout checked as a teacher's copy is (``tiny_imagenet.check``), and only then renamed into place, so the
data folder never holds half a data set.
"""

from __future__ import annotations

import hashlib
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from core.base import files
from core.data import datasets, tiny_imagenet

# The digest published with the zip (the only one its users quote): md5, as the course and torchvision give it.
MD5 = "90528d7ca1a48142e341f4ef8d21d0de"
CHUNK = 1 << 20
TIMEOUT_S = 30  # a stalled connection is an error, not a page that waits forever
PROBE_TIMEOUT_S = 3  # how long "is the machine online?" may take before the page says "offline"

Progress = Callable[[int, int | None], None]  # bytes so far, bytes in all (None when the server does not say)


def reachable(url: str | None = None, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether ``url``'s server (default: the data set's zip) answers a HEAD request: the page offers the
    download only then."""
    url = url or tiny_imagenet.DOWNLOAD_URL
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout) as response:
            return response.status < 400
    except (OSError, ValueError):  # URLError, a refused connection, a timeout, a malformed URL
        return False


def fetch(url: str, to: Path, md5: str, progress: Progress | None = None) -> Path:
    """Stream ``url`` to the file ``to``, calling ``progress`` a chunk at a time; a ``DataError`` (and no file)
    when the download fails or its md5 is not ``md5``."""
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with files.atomic_path(to) as tmp:
            with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(tmp, "wb") as out:
                total = int(response.headers["Content-Length"]) if response.headers["Content-Length"] else None
                done = 0
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            if total is not None and done != total:
                raise datasets.DataError(f"the download of {url} stopped after {done:,} of {total:,} bytes")
            if digest.hexdigest() != md5:
                raise datasets.DataError(f"the file downloaded from {url} is not the data set's zip: its md5 is "
                                         f"{digest.hexdigest()}, the published one {md5}")
    except (OSError, ValueError) as e:  # URLError and HTTPError are OSErrors
        raise datasets.DataError(f"the download of {url} failed: {e}") from e
    return to


def unpack(archive: Path, into: Path) -> Path:
    """Unpack the zip's ``tiny-imagenet-200/`` into the folder ``into``, checked before it is put in place."""
    target = into / tiny_imagenet.FOLDER
    with tempfile.TemporaryDirectory(dir=into, prefix=".tiny-imagenet-") as work:
        try:
            with zipfile.ZipFile(archive) as zf:
                for name in zf.namelist():
                    if name.startswith("/") or ".." in name.split("/"):
                        raise datasets.DataError(f"{archive.name} holds {name!r}, outside its folder: not unpacked")
                zf.extractall(work)
        except (zipfile.BadZipFile, OSError) as e:
            raise datasets.DataError(f"{archive.name} could not be unpacked: {e}") from e
        tiny_imagenet.check(Path(work) / tiny_imagenet.FOLDER)  # a DataError naming what is wrong
        files.replace_folder(Path(work) / tiny_imagenet.FOLDER, target)
    return target


def download(url: str | None = None, into: Path | None = None, md5: str | None = None,
             progress: Progress | None = None) -> Path:
    """Download (default: the data set's usual zip, checked against ``MD5``), check and unpack tiny-ImageNet
    into ``into`` (default ``VP_DATA_DIR``); returns its folder's path."""
    url, md5, into = url or tiny_imagenet.DOWNLOAD_URL, md5 or MD5, into or datasets.data_dir()
    if into is None:
        raise datasets.DataError(f"set {datasets.DATA_ENV} to the folder the data set should go in")
    into.mkdir(parents=True, exist_ok=True)
    archive = into / f".{tiny_imagenet.FOLDER}.zip"
    try:
        fetch(url, archive, md5, progress)
        folder = unpack(archive, into)
    finally:
        archive.unlink(missing_ok=True)
    return folder

