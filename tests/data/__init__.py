"""Tests of cnncourse.data, one file per module; the network is blocked (conftest.py)."""
