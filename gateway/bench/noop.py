"""The benchmark's baseline: an aiohttp handler that reads the request and does nothing.

Also stands in for Kannel's sendsms (202) so receipts cost the gateway the same
HTTP call they would in production, without a real SMSC.
"""

from __future__ import annotations

import sys

from aiohttp import web


async def noop(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=202 if request.path == "/cgi-bin/sendsms" else 200, text="")


def main() -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", noop)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
