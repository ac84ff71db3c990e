"""Every page under the enforced Content-Security-Policy in real Chromium: no violation, and the page works.

The pages are enumerated from the URL patterns (config/urls.py and everything it includes): each
route is either visited (PAGES: how to fill in its path) or named in NOT_PAGES with the reason
it is not a page a browser shows (POST-only actions, JSON, CSV downloads, webhooks). A route in
neither fails the test, so a page added later cannot be forgotten. The Django admin's pages are
enumerated from its registry (index, each app, each model's list, add and change pages).

A violation is caught twice: an init script records every `securitypolicyviolation` event of the
page (also from its frames, before any page script runs), and every console message that
mentions the Content Security Policy is kept. Each page is visited as the shop's owner and as an
admin (the member roles), the admin site as a superuser; the inbox's HTMX actions (opening a
conversation, closing it) and the live socket must still work under the policy.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError

from inbox.models import Member, QuickReply
from monitoring.models import Alert
from tests.browser.conftest import wait_js
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MemberFactory,
    MessageFactory,
    ShopFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "S3cret!pass"
WAIT_MS = 15_000

# Routes that are not pages, by URL name, and why.
NOT_PAGES = {
    "webhook": "platforms' POST endpoint",
    "schema": "the OpenAPI document (JSON/YAML), not HTML",
    "set_language": "POST only (the language form)",
    "logout": "POST only",
    "dashboard:data": "JSON for the dashboard's script",
    "dashboard:export-members": "CSV download",
    "dashboard:export-channels": "CSV download",
    "dashboard:export-replies": "CSV download",
    "monitoring:alert-acknowledge": "POST only",
    "monitoring:alert-feedback": "POST only (the owner's verdict on a terse alert)",
    "inbox-message-react": "POST only (the shop's reaction to a message)",
    "inbox-reply": "POST only",
    "inbox-conversation-assign": "POST only",
    "inbox-conversation-status": "POST only",
    "inbox-message-retry": "POST only",
    "inbox-quick-reply-edit": "POST only (the edit form lives on the quick replies page)",
    "inbox-quick-reply-delete": "POST only",
}
# Every /api/v1/ route is JSON for API clients; the API's browsable page is /api/docs/.
NOT_PAGE_PREFIXES = ("api/v1/",)

# Inline handlers report a violation only when their event fires; find them in the document instead.
INLINE_CODE = """() => {
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith("on")) found.push("inline handler " + el.tagName + " " + attr.name);
    }
  }
  for (const s of document.querySelectorAll("script:not([src])")) {
    if (!/json/.test(s.type)) found.push("inline script " + s.textContent.slice(0, 60));
  }
  return found;
}"""

INIT_SCRIPT = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " at " + (e.sourceFile || "") + ":" + e.lineNumber + " sample=" + (e.sample || ""));
}, true);
"""


def url_patterns() -> Iterator[tuple[str, str | None]]:
    """(route, name with its namespace) of every URL pattern, the admin's left out."""

    def walk(patterns: list[Any], prefix: str, namespace: str | None) -> Iterator[tuple[str, str | None]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
                yield prefix + str(pattern.pattern), name

    for route, name in walk(get_resolver().url_patterns, "", None):
        if not route.startswith("admin/"):
            yield route, name


@pytest.fixture
def shop_pages(db: Any) -> dict[str, Any]:
    now = timezone.now()
    shop = ShopFactory(name="Toko CSP")
    owner = MemberFactory(shop=shop, role=Member.Role.OWNER)
    admin_member = MemberFactory(shop=shop, role=Member.Role.ADMIN)
    channel = ChannelFactory(shop=shop, platform="whatsapp", name="WA CSP")
    contact = ContactFactory(channel=channel, shop=shop, name="Siti")
    conversation = ConversationFactory(contact=contact, channel=channel, shop=shop, last_inbound_at=now)
    message = MessageFactory(
        conversation=conversation,
        text="Kak, ini warnanya?",
        sent_at=now - timedelta(minutes=3),
        # An attachment image from the platform's CDN: img-src must allow it.
        attachments=[{"type": "image", "url": "https://cdn.example.com/foto.jpg", "caption": "foto"}],
    )
    conversation.last_message = message
    conversation.last_message_at = message.sent_at
    conversation.waiting_since = message.sent_at
    conversation.save(update_fields=["last_message", "last_message_at", "waiting_since"])
    QuickReply.objects.create(shop=shop, shortcut="salam", text="Halo kak {nama}")
    Alert.objects.create(
        shop=shop, conversation=conversation, kind="slow_first_reply", title="Lambat", latency_seconds=900
    )
    superuser = get_user_model().objects.create_superuser("root@example.com", "root@example.com", PASSWORD)
    args = {
        "inbox-conversation": [conversation.pk],
        "inbox-conversation-row": [conversation.pk],
        "inbox-conversation-header": [conversation.pk],
        "inbox-message-bubble": [message.pk],
    }
    return {"owner": owner, "admin": admin_member, "superuser": superuser, "conversation": conversation, "args": args}


def page_paths(args: dict[str, list[Any]]) -> list[str]:
    paths: list[str] = []
    unknown: list[str] = []
    for route, name in url_patterns():
        if route.startswith(NOT_PAGE_PREFIXES) or name in NOT_PAGES:
            continue
        if name is None:
            unknown.append(route)
        elif "<" in route and name not in args:
            unknown.append(f"{route} ({name}): no object to fill its path")
        else:
            paths.append(reverse(name, args=args.get(name, [])))
    assert not unknown, (
        f"new URL patterns: visit them in tests/browser/test_csp.py or list them in NOT_PAGES: {unknown}"
    )
    return paths


def admin_paths() -> list[str]:
    from django.test import RequestFactory

    # A superuser's request: a model whose admin takes no additions (django-axes' logs) has no add page.
    request = RequestFactory().get("/admin/")
    request.user = get_user_model()(is_superuser=True, is_staff=True, is_active=True)
    paths = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        paths.append(reverse("admin:app_list", args=[meta.app_label]))
        paths.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        if model_admin.has_add_permission(request):
            paths.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            paths.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk]))
    return sorted(set(paths))


class Watcher:
    """CSP violations of one browser context: events recorded by the init script, console messages."""

    def __init__(self, context: Any) -> None:
        self.console: list[str] = []
        context.add_init_script(INIT_SCRIPT)
        self.context = context

    def page(self) -> Any:
        page = self.context.new_page()
        page.on("console", self._console)
        return page

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def violations(self, page: Any) -> list[str]:
        found = list(page.evaluate("window.__cspViolations || []")) + list(page.evaluate(INLINE_CODE))
        for frame in page.frames[1:]:
            found += frame.evaluate("window.__cspViolations || []")
        found += self.console
        self.console = []
        return found


@pytest.fixture
def context_for(chromium: Any, asgi_server: str) -> Iterator[Any]:
    contexts: list[Any] = []

    def make() -> Watcher:
        context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID", base_url=asgi_server)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return Watcher(context)

    yield make
    for context in contexts:
        context.close()


def login(page: Any, username: str, *, path: str = "/login/") -> None:
    page.goto(path)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_load_state("load")


def visit_all(watcher: Watcher, page: Any, paths: list[str]) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Each page's violations (only pages with some), and each page's HTTP status."""
    problems: dict[str, list[str]] = {}
    statuses: dict[str, int] = {}
    for path in paths:
        try:
            response = page.goto(path)
        except PlaywrightError as exc:
            # Chromium shows no page for an error answer without a body (a role's 403): nothing to check.
            if "ERR_HTTP_RESPONSE_CODE_FAILURE" not in str(exc):
                raise
            statuses[path] = page.request.get(path).status
            continue
        assert response is not None, path
        statuses[path] = response.status
        assert "content-security-policy" in {k.lower() for k in response.headers}, f"{path}: no CSP header"
        page.wait_for_load_state("networkidle")
        violations = watcher.violations(page)
        if violations:
            problems[path] = violations
    return problems, statuses


def test_the_policy_is_enforced_not_report_only(client) -> None:
    response = client.get("/login/")
    policy = response.headers["Content-Security-Policy"]
    assert "Content-Security-Policy-Report-Only" not in response.headers
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if " " in part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and "unsafe" not in policy
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    # The live socket of this host only, never any ws: host.
    assert set(directives["connect-src"].split()) == {"'self'", "ws://testserver", "wss://testserver"}


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_every_page_satisfies_the_policy(context_for, shop_pages, role) -> None:
    paths = page_paths(shop_pages["args"])
    assert {"/login/", "/", "/quick-replies/", "/dashboard/", "/alerts/", "/settings/", "/api/docs/"} <= set(paths)
    watcher = context_for()
    page = watcher.page()
    page.goto("/login/")
    page.wait_for_load_state("networkidle")
    first = watcher.violations(page)
    problems = {"/login/": first} if first else {}
    login(page, shop_pages[role].user.username)
    page.wait_for_url(re.compile(r"/$"))
    # The live socket opened under connect-src.
    page.wait_for_selector("body[data-live='on']", state="attached")
    found, statuses = visit_all(watcher, page, [p for p in paths if p != "/login/"])
    problems.update(found)
    assert not problems, problems
    shown = [p for p, code in statuses.items() if code < 400]
    # An admin is refused the owner's pages (quick replies, dashboard, settings); the rest render.
    assert len(shown) >= (len(paths) - 1 if role == "owner" else len(paths) - 4), statuses
    print(f"\nCSP: {len(shown) + 1} of {len(paths)} pages rendered as {role} ({statuses}), no violation")


def test_the_inbox_still_works_under_the_policy(context_for, shop_pages) -> None:
    watcher = context_for()
    page = watcher.page()
    login(page, shop_pages["owner"].user.username)
    page.wait_for_selector("body[data-live='on']", state="attached")
    conversation = shop_pages["conversation"]
    # Open the conversation through the list (htmx.ajax), then close it (an hx-post form).
    page.click(f"a[href='/c/{conversation.pk}/']")
    page.wait_for_selector(".btn-close-conv")
    page.click(".btn-close-conv")
    page.wait_for_selector(".btn-reopen-conv")
    conversation.refresh_from_db()
    assert conversation.status == "closed"
    # The language select submits its form from static/js/page.js (no inline onchange).
    page.select_option("#lang-select", "en")
    wait_js(page, "document.documentElement.lang === 'en'")
    assert not watcher.violations(page)


def test_the_admin_site_satisfies_the_policy(context_for, shop_pages) -> None:
    paths = admin_paths()
    watcher = context_for()
    page = watcher.page()
    page.goto("/admin/login/")
    page.wait_for_load_state("networkidle")
    first = watcher.violations(page)
    problems = {"/admin/login/": first} if first else {}
    login(page, shop_pages["superuser"].username, path="/admin/login/")
    found, statuses = visit_all(watcher, page, paths)
    problems.update(found)
    assert not problems, problems
    refused = {path: code for path, code in statuses.items() if code != 200}
    assert not refused, refused
    print(f"\nCSP: {len(paths) + 1} admin pages, no violation")
