"""The parts of one running node, built once from its settings and shared by its routes and commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fedicoop.clock import Clock, system_clock
from fedicoop.documents import DocumentBuilder
from fedicoop.services.publishing import Publisher
from fedicoop.settings import Settings
from fedicoop.territory import TerritoryHolder
from fedicoop.urls import Urls


@dataclass
class Node:
    """Settings, URL layout, clock, document builder, publisher and territory (loaded on first use) of one
    node."""

    settings: Settings
    urls: Urls
    clock: Clock
    documents: DocumentBuilder
    publisher: Publisher
    territory: TerritoryHolder


def build_node(settings: Settings, clock: Clock = system_clock) -> Node:
    """Assemble the parts of a node from its settings; ``clock`` is injectable for tests."""
    urls = Urls(settings.base_url)
    documents = DocumentBuilder(urls, node_name=settings.display_name)
    territory = TerritoryHolder.from_settings(settings)
    interval = timedelta(hours=settings.next_slot_update_hours)
    publisher = Publisher(documents, interval, clock, territory=territory)
    return Node(
        settings=settings,
        urls=urls,
        clock=clock,
        documents=documents,
        publisher=publisher,
        territory=territory,
    )
