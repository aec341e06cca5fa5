"""DataForge datasets: a version's files, read or downloaded (sha256-verified), and tables as DataFrames.

    ds = aidos.datasets.get("penguins")            # the latest version; or version="3", a tag, an id
    ds.download("data/penguins")                    # every file, verified
    df = ds.to_pandas()                             # needs pandas
"""

from __future__ import annotations

import hashlib
import io
import os
from typing import IO, Any, Dict, Iterator, List, NamedTuple, Optional, Union
from urllib.parse import quote

from . import _state
from ._errors import AidosError
from ._http import Client, logger

__all__ = ["Dataset", "FileEntry", "get"]

#: What ``to_pandas`` can read, by file extension.
TABLE_EXTENSIONS = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet")


class FileEntry(NamedTuple):
    """A file of a dataset version."""

    path: str
    sha256: str
    size: int


def get(
    name: str,
    version: Union[str, int] = "latest",
    *,
    log_input: bool = True,
    context: Optional[str] = "training",
    url: Optional[str] = None,
    token: Optional[str] = None,
) -> "Dataset":
    """A version of dataset ``name`` (or id): its number (``3``), a tag (``"golden"``), an id or ``"latest"``.

    The version is resolved once: later calls on the returned object read that version, even if a newer one
    is committed meanwhile.

    While a run is active (:func:`aidos.init`) on the same server, the version is recorded as one of its
    inputs with ``context`` (see :meth:`aidos.Run.use_dataset`), unless ``log_input=False``. Should that
    fail, a warning is logged and the dataset is returned all the same.
    """
    client = Client(url, token)
    data = client.call("GET", f"/api/v1/datasets/{quote(str(name), safe='')}/versions/{quote(str(version), safe='')}")
    dataset = Dataset(client, str(name), data)
    run = _state.current
    if log_input and run is not None and run._client.url == client.url:
        try:
            run.use_dataset(dataset, context)
        except (AidosError, RuntimeError) as e:
            logger.warning("aidos: could not record %s v%s as an input of run %s: %s", name, dataset.version, run.id, e)
    return dataset


class Dataset:
    """One version of a dataset.

    Attributes: ``name``, ``version`` (its number), ``id`` (the version's id), ``tags``, ``message``,
    ``kind``, ``file_count``, ``total_bytes``, ``created_at`` (ms since the epoch).
    """

    def __init__(self, client: Client, name: str, data: Dict[str, Any]) -> None:
        self._client = client
        self.raw = data
        self.name = name
        self.id: str = data["id"]
        self.version: int = int(data["number"])
        self.tags: List[str] = list(data.get("tags", []))
        self.message: str = data.get("message", "")
        self.kind: str = data.get("kind", "")
        self.file_count: int = int(data.get("fileCount", 0))
        self.total_bytes: int = int(data.get("totalBytes", 0))
        self.created_at: Optional[int] = data.get("createdAt")
        self._base = f"/api/v1/datasets/{quote(name, safe='')}/versions/{quote(self.id, safe='')}"

    def __repr__(self) -> str:
        return f"<aidos.Dataset {self.name} v{self.version} ({self.file_count} files, {self.total_bytes} bytes)>"

    def iter_files(self, prefix: str = "") -> Iterator[FileEntry]:
        """The version's files in path order (``prefix`` narrows to a folder), fetched a page at a time."""
        after: Optional[str] = None
        while True:
            query = {"prefix": prefix, "limit": 5000, "after": after}
            page = self._client.call("GET", f"{self._base}/files", query=query)
            for item in page.get("items", []):
                yield FileEntry(item["path"], item["sha256"], int(item["size"]))
            after = page.get("next")
            if not after:
                return

    def files(self, prefix: str = "") -> List[FileEntry]:
        """Every file of the version (``prefix`` narrows to a folder), in path order."""
        return list(self.iter_files(prefix))

    def open(self, file: str, mode: str = "rb", encoding: str = "utf-8") -> IO[Any]:
        """A file of the version as a stream (``"rb"``, or ``"r"`` for text); close it, or use ``with``."""
        if mode not in ("rb", "r"):
            raise ValueError(f"mode must be 'rb' or 'r', got {mode!r}")
        raw = self._client.download(f"{self._base}/content", query={"path": file})
        stream = io.BufferedReader(raw, buffer_size=1 << 20)
        return stream if mode == "rb" else io.TextIOWrapper(stream, encoding=encoding)

    def read(self, file: str) -> bytes:
        """The bytes of one file."""
        with self.open(file) as f:
            return f.read()

    def download(self, path: Union[str, "os.PathLike[str]"], prefix: str = "") -> str:
        """Writes every file (below ``prefix``) into folder ``path``, checking each one's sha256; returns ``path``.

        Files already there with the right content are kept as they are. A file whose bytes do not match is
        not left behind and raises :class:`aidos.AidosError`.
        """
        root = os.path.abspath(os.fspath(path))
        os.makedirs(root, exist_ok=True)
        for entry in self.iter_files(prefix):
            target = _inside(root, entry.path)
            if os.path.isfile(target) and os.path.getsize(target) == entry.size and _sha256_of(target) == entry.sha256:
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            partial = f"{target}.aidos-partial"
            digest = hashlib.sha256()
            try:
                with self.open(entry.path) as source, open(partial, "wb") as out:
                    for chunk in iter(lambda: source.read(1 << 20), b""):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != entry.sha256:
                    raise AidosError(
                        f"{self.name} v{self.version}: {entry.path} arrived with sha256 {digest.hexdigest()}, "
                        f"expected {entry.sha256}"
                    )
                os.replace(partial, target)
            finally:
                if os.path.exists(partial):
                    os.remove(partial)
        return root

    def to_pandas(self, file: Optional[str] = None, **read_options: Any) -> Any:
        """A table of the version as a ``pandas.DataFrame`` (CSV, TSV, JSON lines, JSON or Parquet).

        ``file`` may be left out when the version holds a single table. Needs pandas (and pyarrow for Parquet);
        ``read_options`` go to pandas' reader.
        """
        try:
            import pandas
        except ImportError as e:
            raise ImportError(
                "aidos Dataset.to_pandas() needs pandas, which is not installed: pip install pandas "
                "(or read the files with Dataset.open() / Dataset.download())"
            ) from e
        if file is None:
            tables = [f.path for f in self.iter_files() if f.path.lower().endswith(TABLE_EXTENSIONS)]
            if len(tables) != 1:
                raise ValueError(
                    f"{self.name} v{self.version} holds {len(tables)} tables"
                    + (f" ({', '.join(tables[:10])})" if tables else "")
                    + ": pass file= to choose one"
                )
            file = tables[0]
        lower = file.lower()
        data = io.BytesIO(self.read(file))
        if lower.endswith(".parquet"):
            return pandas.read_parquet(data, **read_options)
        if lower.endswith((".jsonl", ".ndjson")):
            return pandas.read_json(data, lines=True, **read_options)
        if lower.endswith(".json"):
            return pandas.read_json(data, **read_options)
        if lower.endswith(".tsv"):
            return pandas.read_csv(data, sep="\t", **read_options)
        return pandas.read_csv(data, **read_options)


def _inside(root: str, relative: str) -> str:
    """``root/relative``, refusing paths that would leave ``root``."""
    target = os.path.abspath(os.path.join(root, *relative.split("/")))
    if os.path.commonpath([root, target]) != root or target == root:
        raise AidosError(f"refusing to write {relative!r} outside {root}")
    return target


def _sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
