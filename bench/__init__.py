"""Benchmarks of the federation paths (``make bench``): the inbox and the delivery fan-out.

Each benchmark prints a ratio against a baseline measured in the same run on the same machine:
the real inbox against a bare signature-checking endpoint, the real delivery worker against raw
RSA-2048 signing. Not collected by pytest (``testpaths`` is ``tests``); see ``bench/README.md``.
"""
