"""The background jobs a node's worker runs besides delivery: inbox, slot refresh, feeds, statistics."""

from __future__ import annotations

from fedicoop.feeds.announcing import FeedJob
from fedicoop.network import Network
from fedicoop.services.processing import InboxJob
from fedicoop.services.slot_refresh import SlotRefreshJob
from fedicoop.services.statistics import StatisticsJob
from fedicoop.worker import Job

__all__ = ["background_jobs"]


def background_jobs(network: Network, worker_name: str) -> list[Job]:
    """The jobs every worker of the node runs after its delivery job."""
    return [
        InboxJob(network, worker_name),
        SlotRefreshJob(network.fetcher.fetch, publisher=network.node.publisher),
        FeedJob(network.node, worker_name),
        StatisticsJob(),
    ]
