"""Developer tools (not used by a running node)."""
