"""No test of cnncourse.data reaches the network: everything but the downloads works
offline, and the download path is tested against files placed in a temporary cache."""

import socket

import pytest


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any connection attempt fails as it does on a machine without a network."""

    def refuse(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
