"""Fixtures shared by every test folder: real peers and the gateway as a child process."""

pytest_plugins = ["tests.peers.kannel", "tests.gateway_proc"]
