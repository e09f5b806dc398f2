"""Local fake provider APIs (Telegram Bot API, X API v2, Graph API) for tests.

Each fake is an aiohttp app on 127.0.0.1 that records what it receives::

    async with FakeTelegram() as fake:
        bot = Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
        ...
        assert fake.sent_messages[0]["text"] == "..."
"""

from tests.fakes.graph_api import FakeGraph
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.x_api import FakeX

__all__ = ["FakeGraph", "FakeTelegram", "FakeX"]
