"""Registry objects as read back from the server."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional


class ModelVersion:
    """One version of a registered model.

    Attributes: ``name``, ``version`` (int), ``source`` (the artifact URI it was registered from), ``run_id``,
    ``aliases``, ``tags``, ``description``, ``status``, ``stage``, ``created_at`` (ms since the epoch).
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.raw: Dict[str, Any] = dict(data)
        self.name: str = data["name"]
        self.version: int = int(data["version"])
        self.source: str = data.get("source", "")
        self.run_id: Optional[str] = data.get("run_id")
        self.aliases: List[str] = list(data.get("aliases", []))
        self.tags: Dict[str, str] = {t["key"]: t.get("value", "") for t in data.get("tags", [])}
        self.description: str = data.get("description", "")
        self.status: str = data.get("status", "")
        self.stage: str = data.get("current_stage", "None")
        self.created_at: Optional[int] = data.get("creation_timestamp")

    def __repr__(self) -> str:
        return f"<aidos.ModelVersion {self.name} v{self.version} aliases={self.aliases}>"
