"""fedicoop: a federated ActivityPub server linking cooperative platforms."""

__version__ = "0.1.0"
