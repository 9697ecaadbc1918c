"""A stand-in customer website on its own origin, embedding the widget from the app's origin.

It proves what a real embed needs: the widget loads cross-origin with one tag, under a strict
Content-Security-Policy that allows the app's origin and nothing else, and the app decides by the
Site's allowed origins whether this page may chat. `make run` starts it beside the app;
`python -m salesbot.demo_host --port 8001 --app http://127.0.0.1:8000` runs it alone.
"""

from __future__ import annotations

import argparse
import html
import mimetypes
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "templates" / "demo.html"
ASSETS = ROOT / "static" / "demo"
# path -> (title, what the page says)
PAGES = {
    "/": ("Home", "Acme Analytics turns your CRM into dashboards your sales team reads daily."),
    "/pricing/": ("Pricing", "Plans start at $25 per seat and month, with a 14-day free trial."),
    "/privacy/": (
        "Privacy",
        "We keep chat conversations to answer you and to follow up on your enquiry, and delete "
        "them on request.",
    ),
}


def content_security_policy(app_url: str) -> str:
    """What a strict host page allows the widget: its script, socket and images, no more."""
    ws_url = "ws" + app_url.removeprefix("http")
    return (
        f"default-src 'self'; script-src 'self' {app_url}; connect-src 'self' {app_url} "
        f"{ws_url}; img-src 'self' {app_url} https: data:; style-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def demo_page(*, app_url: str, site_key: str, path: str = "/", lang: str = "en") -> str:
    """The host page at `path`, embedding the widget of `site_key` served by `app_url`."""
    nav = " ".join(
        f'<a href="{href}?site={html.escape(site_key)}&amp;lang={html.escape(lang)}"'
        + (' aria-current="page"' if href == path else "")
        + f">{title}</a>"
        for href, (title, _) in PAGES.items()
    )
    title, text = PAGES[path]
    return Template(TEMPLATE.read_text()).substitute(
        app_url=html.escape(app_url),
        site_key=html.escape(site_key),
        lang=html.escape(lang),
        page=title,
        text=text,
        nav=nav,
    )


class _Handler(BaseHTTPRequestHandler):
    server: DemoHostServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path in PAGES:
            body = demo_page(
                app_url=self.server.app_url,
                site_key=query.get("site", "demo"),
                path=url.path,
                lang=query.get("lang", "en"),
            ).encode()
            self._send(HTTPStatus.OK, body, "text/html; charset=utf-8")
        elif (asset := ASSETS / url.path.removeprefix("/")).is_file() and asset.parent == ASSETS:
            kind = mimetypes.guess_type(asset.name)[0] or "application/octet-stream"
            self._send(HTTPStatus.OK, asset.read_bytes(), kind)
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")

    def _send(self, status: HTTPStatus, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", content_security_policy(self.server.app_url))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the app's own log is the one to read


class DemoHostServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app_url: str) -> None:
        super().__init__(address, _Handler)
        self.app_url = app_url.rstrip("/")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the demo host page on its own origin.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--app", default="http://127.0.0.1:8000", help="the salesbot app's URL")
    args = parser.parse_args(argv)
    with DemoHostServer((args.host, args.port), args.app) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
