"""The SQLite adapter: ``Journal`` (:mod:`.journal`), one module per owner of its tables."""
