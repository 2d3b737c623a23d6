"""Tests of ``fedicoop.territory``."""
