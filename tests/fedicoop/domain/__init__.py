"""Tests of ``fedicoop.domain``."""
