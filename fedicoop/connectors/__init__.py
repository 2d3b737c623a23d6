"""Connectors: keep a node in step with the application a cooperative already runs (Rustine Libre, EBS)."""
