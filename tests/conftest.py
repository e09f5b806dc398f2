"""Fixtures shared by every test folder: real peers and the gateway as a child process."""

import os

pytest_plugins = ["tests.peers.kannel", "tests.gateway_proc"]

# The CLI lays its tables out for the terminal's width (COLUMNS when piped). The runner's own width must not
# decide what a test reads: pytest-xdist's workers have COLUMNS=80, and `log` then put a row's detail on a line
# of its own. A test that wants a width sets it.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)
