"""The harness's asserts are rewritten by pytest too, so a failing case shows what differed."""

import pytest

pytest.register_assert_rewrite("tests.unit.channels.harness")
