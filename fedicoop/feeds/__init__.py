"""Feeds of the catalogue: iCalendar and Atom documents of any search, and followable feed actors.

- :mod:`fedicoop.feeds.ical` and :mod:`fedicoop.feeds.atom` write RFC 5545 and RFC 4287 documents
  (``/catalogue.ics`` and ``/catalogue.atom`` serve them, :mod:`fedicoop.web.feeds`);
- :mod:`fedicoop.feeds.describing` says in French what a search looks for (titles, feed actor names);
- :mod:`fedicoop.feeds.actors` creates, lists and deletes feed actors (``fedicoop feed``), ``Service``
  actors holding a saved search;
- :mod:`fedicoop.feeds.matching` tells which items a saved search finds, with the search engine's SQL;
- :mod:`fedicoop.feeds.announcing` is the worker job that announces new matches to a feed's followers
  and undoes the announcements of items that stop matching or go away.
"""
