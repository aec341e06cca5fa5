"""Reading runs and models back: :class:`Api`."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from ._http import Client, quote_path
from ._models import ModelVersion


def _number(value: Any) -> float:
    """A metric value off the wire: a number, or "NaN" / "Infinity" / "-Infinity" (which ``float`` reads)."""
    return float(value)


class ApiRun:
    """A run as stored on the server (a snapshot taken when it was read).

    Attributes: ``id``, ``name``, ``experiment_id``, ``status`` (RUNNING, FINISHED, FAILED, KILLED…),
    ``start_time``, ``end_time`` (ms since the epoch, ``None`` while running), ``artifact_uri``, ``params``,
    ``metrics`` (each metric's latest value), ``tags`` (dicts), ``inputs`` (the datasets it used, as MLflow's
    ``dataset_inputs``: ``{"dataset": {name, digest, source_type, source, ...}, "tags": [...]}``).
    """

    def __init__(self, client: Client, data: Mapping[str, Any]) -> None:
        self._client = client
        info = data["info"]
        body = data.get("data", {})
        self.raw: Dict[str, Any] = dict(data)
        self.id: str = info["run_id"]
        self.name: str = info.get("run_name", "")
        self.experiment_id: str = info["experiment_id"]
        self.status: str = info.get("status", "")
        self.start_time: Optional[int] = info.get("start_time")
        self.end_time: Optional[int] = info.get("end_time")
        self.artifact_uri: str = info.get("artifact_uri", "")
        self.user: str = info.get("user_id", "")
        self.params: Dict[str, str] = {p["key"]: p.get("value", "") for p in body.get("params", [])}
        self.tags: Dict[str, str] = {t["key"]: t.get("value", "") for t in body.get("tags", [])}
        self.metrics: Dict[str, float] = {m["key"]: _number(m["value"]) for m in body.get("metrics", [])}
        self.inputs: List[Dict[str, Any]] = list(data.get("inputs", {}).get("dataset_inputs", []))

    def __repr__(self) -> str:
        return f"<aidos.ApiRun {self.id} {self.name!r} {self.status}>"

    def history(self, key: str) -> List[Tuple[int, float, int]]:
        """Every point of metric ``key`` in logging order, as ``(step, value, timestamp)``."""
        points: List[Tuple[int, float, int]] = []
        token: Optional[str] = None
        while True:
            page = self._client.call(
                "GET",
                "/api/2.0/mlflow/metrics/get-history",
                query={"run_id": self.id, "metric_key": key, "page_token": token},
            )
            points.extend((int(m["step"]), _number(m["value"]), int(m["timestamp"])) for m in page.get("metrics", []))
            token = page.get("next_page_token")
            if not token:
                return points

    def _location(self, path: str) -> str:
        base = f"{self.experiment_id}/{self.id}/artifacts"
        path = path.strip("/")
        return f"{base}/{path}" if path else base

    def artifacts(self, path: str = "") -> List[Dict[str, Any]]:
        """The files and folders directly in artifact folder ``path``: ``{path, is_dir, file_size}``."""
        listing = self._client.call("GET", "/api/2.0/mlflow-artifacts/artifacts", query={"path": self._location(path)})
        prefix = f"{path.strip('/')}/" if path.strip("/") else ""
        return [{**f, "path": prefix + f["path"]} for f in listing.get("files", [])]

    def artifact(self, path: str) -> bytes:
        """The bytes of the artifact file ``path``."""
        with self._client.download(f"/api/2.0/mlflow-artifacts/artifacts/{quote_path(self._location(path))}") as s:
            return s.read()


class Api:
    """Reads runs and model versions from the server.

    ``url`` and ``token`` default to ``AIDOS_URL`` / ``AIDOS_TOKEN`` / the local token file, as for
    :func:`aidos.init`.
    """

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, *, timeout: float = 60.0) -> None:
        self.client = Client(url, token, timeout=timeout)

    def run(self, run_id: str) -> ApiRun:
        """The run with this id."""
        data = self.client.call("GET", "/api/2.0/mlflow/runs/get", query={"run_id": run_id})
        return ApiRun(self.client, data["run"])

    def runs(
        self,
        project: str,
        filter: Optional[str] = None,
        order_by: Union[str, Sequence[str], None] = None,
        *,
        page_size: int = 1000,
    ) -> Iterator[ApiRun]:
        """Every run of a project (experiment name) matching ``filter``, page after page.

        ``filter`` and ``order_by`` use MLflow's search syntax, e.g. ``"metrics.loss < 0.1 and
        params.lr = '0.01'"`` and ``["metrics.loss ASC", "start_time DESC"]``.
        """
        experiment = self.client.call(
            "GET", "/api/2.0/mlflow/experiments/get-by-name", query={"experiment_name": project}
        )
        body: Dict[str, Any] = {
            "experiment_ids": [experiment["experiment"]["experiment_id"]],
            "max_results": page_size,
        }
        if filter:
            body["filter"] = filter
        if order_by:
            body["order_by"] = [order_by] if isinstance(order_by, str) else list(order_by)
        while True:
            page = self.client.call("POST", "/api/2.0/mlflow/runs/search", body)
            for run in page.get("runs", []):
                yield ApiRun(self.client, run)
            token = page.get("next_page_token")
            if not token:
                return
            body["page_token"] = token

    def model_version(self, name: str, version_or_alias: Union[int, str]) -> ModelVersion:
        """A version of registered model ``name`` by number (``3``, ``"3"``) or alias (``"champion"``)."""
        ref = str(version_or_alias)
        if ref.isdigit():
            data = self.client.call("GET", "/api/2.0/mlflow/model-versions/get", query={"name": name, "version": ref})
        else:
            data = self.client.call(
                "GET", "/api/2.0/mlflow/registered-models/alias", query={"name": name, "alias": ref}
            )
        return ModelVersion(data["model_version"])
