"""Storage: the ports (:mod:`.ports`), the rows they pass (:mod:`.records`), the SQLite adapter (:mod:`.sqlite`),
the vault (:mod:`.vault`) and attachment files (:mod:`.blobs`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.settings import Settings
    from gateway.store.sqlite.journal import Journal


def open_journal(settings: Settings) -> Journal:
    """The journal ``storage.url`` names (only ``sqlite:///`` is implemented; settings refuse the rest at load)."""
    from gateway.store.sqlite.journal import Journal
    from gateway.store.vault import Sealer

    assert settings.privacy.vault_key
    return Journal(settings.sqlite_path, Sealer(settings.privacy.vault_key), settings.storage.batch_max)
