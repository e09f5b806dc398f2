"""The operator console: a web app on its own listener (``console.host``/``console.port``), its own process.

``process.py`` runs it (``lapor-gateway console``, started by ``run``); ``app.py`` builds the aiohttp app and its
middlewares (security headers, sessions, CSRF, roles); ``auth.py`` passwords, TOTP and the login throttle;
``render.py`` the templates; one ``pages_*.py`` module per group of pages, each with ``add_routes(app)``.
"""
