"""What a connector run did: counts per object type and action, the records skipped and those that failed.

The engine fills a :class:`RunSummary` as it applies a snapshot; the CLI prints :meth:`RunSummary.lines`
for people or :meth:`RunSummary.to_json` for machines, and exits 1 when :attr:`RunSummary.failed`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from fedicoop.connectors.specs import Skip, SourceKey
from fedicoop.models.states import LinkTarget

__all__ = ["Failure", "RunSummary", "SyncAction"]


class SyncAction(StrEnum):
    """What a run did to one source record: published it, changed it, withdrew it, or nothing."""

    CREATED = "created"
    UPDATED = "updated"
    WITHDRAWN = "withdrawn"
    UNCHANGED = "unchanged"


SKIPS_LISTED = 20
"""Up to this many skipped records, the summary lists each; past it, it counts them by reason."""

_PLURAL = {LinkTarget.ACTOR: "actors", LinkTarget.LISTING: "listings", LinkTarget.EVENT: "events"}


@dataclass(frozen=True, slots=True)
class Failure:
    """A record the run could not apply (the others went on): its key, its type and the error."""

    key: SourceKey
    target: LinkTarget
    message: str


def _zeros() -> dict[LinkTarget, dict[SyncAction, int]]:
    return {target: dict.fromkeys(SyncAction, 0) for target in LinkTarget}


@dataclass(slots=True)
class RunSummary:
    """The outcome of one run over ``source``: counts per type and action, refreshed slot lists,
    skipped records (with the connector's reason) and failed ones (with the error)."""

    source: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    counts: dict[LinkTarget, dict[SyncAction, int]] = field(default_factory=_zeros)
    slots_refreshed: int = 0
    skipped: list[Skip] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    def record(self, target: LinkTarget, action: SyncAction) -> None:
        """Count one record of type ``target`` that the run ``action``-ed."""
        self.counts[target][action] += 1

    def fail(self, key: SourceKey, target: LinkTarget, message: str) -> None:
        """Note a record that could not be applied."""
        self.failures.append(Failure(key, target, message))

    def count(self, target: LinkTarget, action: SyncAction) -> int:
        """How many records of type ``target`` the run ``action``-ed."""
        return self.counts[target][action]

    def total(self, action: SyncAction) -> int:
        """How many records of every type the run ``action``-ed."""
        return sum(self.counts[target][action] for target in LinkTarget)

    @property
    def failed(self) -> bool:
        """Whether a record failed (the CLI then exits 1)."""
        return bool(self.failures)

    @property
    def changed(self) -> bool:
        """Whether the run published anything (created, updated, withdrew or refreshed slots)."""
        moved = (SyncAction.CREATED, SyncAction.UPDATED, SyncAction.WITHDRAWN)
        return any(self.total(action) for action in moved) or self.slots_refreshed > 0

    def lines(self) -> list[str]:
        """The summary for people: a headline, one line per type, then the skipped records (counted by
        reason past :data:`SKIPS_LISTED`) and the failed ones.

        >>> summary = RunSummary("rustine https://api.example")
        >>> summary.record(LinkTarget.ACTOR, SyncAction.CREATED)
        >>> summary.skipped.append(Skip(SourceKey("repairer", "7"), "not enabled"))
        >>> print("\\n".join(summary.lines()))
        rustine https://api.example: 1 created, 0 updated, 0 withdrawn, 0 unchanged, 1 skipped, 0 failed
          actors    1 created, 0 updated, 0 withdrawn, 0 unchanged
          listings  0 created, 0 updated, 0 withdrawn, 0 unchanged
          events    0 created, 0 updated, 0 withdrawn, 0 unchanged
          skipped repairer 7: not enabled
        """
        head = ", ".join(f"{self.total(action)} {action.value}" for action in SyncAction)
        lines = [f"{self.source}: {head}, {len(self.skipped)} skipped, {len(self.failures)} failed"]
        for target in LinkTarget:
            counts = ", ".join(f"{self.counts[target][action]} {action.value}" for action in SyncAction)
            lines.append(f"  {_PLURAL[target]:<9} {counts}")
        if self.slots_refreshed:
            lines.append(f"  slots     {self.slots_refreshed} repair offer(s) with new imported slots")
        if len(self.skipped) <= SKIPS_LISTED:
            lines.extend(f"  skipped {skip.key}: {skip.reason}" for skip in self.skipped)
        else:  # a long-lived EBS keeps every deleted product: count them by reason
            reasons = Counter(skip.reason for skip in self.skipped)
            lines.extend(f"  skipped {count} × {reason}" for reason, count in reasons.most_common())
        lines.extend(
            f"  FAILED {failure.target.value} {failure.key}: {failure.message}" for failure in self.failures
        )
        return lines

    def to_json(self) -> dict[str, Any]:
        """The summary for machines (``--json``): plain JSON types only."""
        return {
            "source": self.source,
            "ok": not self.failed,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            **{
                _PLURAL[target]: {action.value: self.counts[target][action] for action in SyncAction}
                for target in LinkTarget
            },
            "slots_refreshed": self.slots_refreshed,
            "skipped": [
                {"kind": skip.key.kind, "id": skip.key.id, "reason": skip.reason} for skip in self.skipped
            ],
            "failed": [
                {
                    "type": failure.target.value,
                    "kind": failure.key.kind,
                    "id": failure.key.id,
                    "error": failure.message,
                }
                for failure in self.failures
            ],
        }
