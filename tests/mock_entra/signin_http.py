"""Walking the mock's sign-in pages for tests whose subject is a client library, not the pages:
over HTTP without a browser (`http_sign_in`), or in one (`sign_in_pages`)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import requests
from playwright.sync_api import Page

_CTX = re.compile(r'name="ctx" value="([^"]+)"')


def http_sign_in(
    http: requests.Session, base: str, auth_uri: str, user: tuple[str, str]
) -> dict[str, str]:
    """Follow `auth_uri` through username, password, "stay signed in?" and consent as the
    pages ask; the query parameters of the redirect back to the client."""
    page = http.get(auth_uri, allow_redirects=False)
    tenant = urlsplit(auth_uri).path.strip("/").split("/")[0]
    steps = [
        ("username", {"loginfmt": user[0]}),
        ("password", {"passwd": user[1]}),
        ("kmsi", {"choice": "no"}),
        ("consent", {"choice": "accept"}),
    ]
    for step, fields in steps:
        if page.status_code == 302:
            break
        if f'name="step" value="{step}"' not in page.text:
            continue
        ctx = _CTX.search(page.text)
        assert ctx, page.text[:500]
        page = http.post(
            f"{base}/{tenant}/login",
            data={"ctx": html.unescape(ctx.group(1)), "step": step, **fields},
            allow_redirects=False,
        )
    assert page.status_code == 302, page.text[:500]
    return {k: v[0] for k, v in parse_qs(urlsplit(page.headers["Location"]).query).items()}


def sign_in_pages(page: Page, user: tuple[str, str]) -> None:
    """Entra's username, password and "Stay signed in?" (No) pages, by their element ids."""
    page.fill("input#i0116[name=loginfmt]", user[0])
    page.click("#idSIButton9")
    page.wait_for_selector("#idA_PWD_ForgotPassword")
    page.fill("input#i0118[name=passwd]", user[1])
    page.click("#idSIButton9")
    page.wait_for_selector("#KmsiCheckboxField")
    page.click("#idBtn_Back")
