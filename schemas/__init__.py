"""The wire vocabulary of fedicoop: pure data models of what travels between nodes.

``schemas`` imports the standard library and pydantic only, and does nothing at import. Modules:
``base`` (``WireModel``/``ASModel`` and the field types), ``context`` (namespace, ``FEDICOOP_CONTEXT``,
Public, categories), ``limits`` (every bound), ``errors``, ``media``, ``places``, ``actors``,
``listings``, ``slots``, ``events``, ``bookings``, ``activities``, ``collections``, ``discovery``,
``rules`` (shape checks), ``api`` (JSON API models), and the package data ``contexts/`` (bundled
JSON-LD contexts) and ``examples/`` (the golden examples of wire-format.md).
"""
