"""The outbound URL policy against a corpus of bad and good URLs."""

from __future__ import annotations

import pytest

from connections import url_policy
from connections.exceptions import UrlRefused
from connections.types import System

OKTA, GOOGLE, ZOOM, GRAPH = System.OKTA, System.GOOGLE, System.ZOOM, System.MSGRAPH

BAD = [
    # other schemes
    (OKTA, "http://acme.okta.com"),
    (OKTA, "ftp://acme.okta.com"),
    (OKTA, "file:///etc/passwd"),
    (OKTA, "gopher://acme.okta.com"),
    (OKTA, "javascript:alert(1)"),
    (OKTA, "//acme.okta.com"),
    (OKTA, "acme.okta.com"),
    # IP literals in every notation
    (OKTA, "https://127.0.0.1"),
    (OKTA, "https://10.0.0.1"),
    (OKTA, "https://169.254.169.254/latest/meta-data"),
    (OKTA, "https://2130706433"),
    (OKTA, "https://0x7f000001"),
    (OKTA, "https://0177.0.0.1"),
    (OKTA, "https://127.1"),
    (OKTA, "https://0x7f.0x0.0x0.0x1"),
    (OKTA, "https://[::1]"),
    (OKTA, "https://[::ffff:127.0.0.1]"),
    (OKTA, "https://[::ffff:7f00:1]"),
    (OKTA, "https://[fe80::1%25eth0]"),
    (GRAPH, "https://8.8.8.8"),
    # user-info
    (OKTA, "https://user:pass@acme.okta.com"),
    (OKTA, "https://acme.okta.com@evil.test"),
    (OKTA, "https://evil.test@acme.okta.com"),
    # other ports
    (OKTA, "https://acme.okta.com:8443"),
    (GOOGLE, "https://admin.googleapis.com:80"),
    (OKTA, "https://acme.okta.com:0"),
    (OKTA, "https://acme.okta.com:99999"),
    # look-alikes and other hosts
    (OKTA, "https://acme.okta.com.evil.test"),
    (OKTA, "https://evilokta.com"),
    (OKTA, "https://okta.com"),
    (OKTA, "https://a.b.okta.com"),
    (OKTA, "https://acme-okta.com"),
    (OKTA, "https://acme.okta.co"),
    (OKTA, "https://acme.okta.com."),
    (OKTA, "https://acme.okta.com%2eevil.test"),
    (OKTA, "https://acme.okta.com\\@evil.test"),
    (OKTA, "https://acme.okta.com/ path"),
    (OKTA, "https://acme.okta.com/api?x=1"),
    (OKTA, "https://acme.okta.com/#frag"),
    (GOOGLE, "https://admin.googleapis.com.evil.test"),
    (GOOGLE, "https://evil.googleapis.com"),
    (GOOGLE, "https://acme.okta.com"),
    (ZOOM, "https://api.zoom.us.evil.test"),
    (ZOOM, "https://zoom.us.evil.test"),
    (ZOOM, "https://evil-zoom.us"),
    (GRAPH, "https://graph.microsoft.com.evil.test"),
    (GRAPH, "https://login.microsoftonline.com.evil.test"),
    (GRAPH, "https://microsoft.com"),
    # names that resolve to private, loopback or link-local addresses
    (OKTA, "https://internal.okta.com"),
    (OKTA, "https://rebind.okta.com"),
    (OKTA, "https://linklocal.okta.com"),
    (OKTA, "https://mapped.okta.com"),
    (OKTA, "https://v6private.okta.com"),
    (OKTA, "https://nxdomain.okta.com"),
    # loopback without the sandbox
    (OKTA, "http://127.0.0.1:8100/okta"),
    (OKTA, "http://localhost:8100/okta"),
    (OKTA, ""),
    (OKTA, "https://"),
]

GOOD = [
    (OKTA, "https://acme.okta.com", "https://acme.okta.com"),
    (OKTA, "https://acme.oktapreview.com/", "https://acme.oktapreview.com"),
    (OKTA, "https://acme-admin.okta-emea.com/api/v1", "https://acme-admin.okta-emea.com/api/v1"),
    (OKTA, "https://ACME.okta.com:443/api/v1", "https://ACME.okta.com:443/api/v1"),
    (GOOGLE, "https://admin.googleapis.com", "https://admin.googleapis.com"),
    (GOOGLE, "https://oauth2.googleapis.com/token", "https://oauth2.googleapis.com/token"),
    (ZOOM, "https://api.zoom.us/v2", "https://api.zoom.us/v2"),
    (ZOOM, "https://zoom.us/oauth/token", "https://zoom.us/oauth/token"),
    (GRAPH, "https://graph.microsoft.com/v1.0", "https://graph.microsoft.com/v1.0"),
    (
        GRAPH,
        "https://login.microsoftonline.com/t/oauth2/v2.0/token",
        "https://login.microsoftonline.com/t/oauth2/v2.0/token",
    ),
]


def test_corpus_has_at_least_thirty_bad_urls():
    assert len(BAD) >= 30


@pytest.mark.parametrize(("system", "url"), BAD)
def test_bad_url_is_refused_in_production(system, url):
    with pytest.raises(UrlRefused) as info:
        url_policy.check_url(url, system=system, sandbox=False)
    assert str(info.value)  # a message in words for the form


@pytest.mark.parametrize(("system", "url", "expected"), GOOD)
def test_good_url_is_allowed(system, url, expected):
    assert url_policy.check_url(url, system=system, sandbox=False) == expected


def test_custom_domain_is_allowed_only_when_added():
    with pytest.raises(UrlRefused):
        url_policy.check_url("https://login.acme.com", system=OKTA, sandbox=False)
    url = url_policy.check_url(
        "https://login.acme.com", system=OKTA, extra_hosts=["login.acme.com"], sandbox=False
    )
    assert url == "https://login.acme.com"


def test_custom_domain_of_okta_does_not_open_other_systems():
    with pytest.raises(UrlRefused):
        url_policy.check_url("https://login.acme.com", system=GOOGLE, sandbox=False)


@pytest.mark.parametrize("value", ["127.0.0.1", "acme", "https://x.com", "a..b.com", "x_y.com"])
def test_custom_domain_must_be_a_plain_host_name(value):
    with pytest.raises(UrlRefused):
        url_policy.normalise_custom_domain(value)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8100/okta", "http://localhost:8100/okta/api/v1", "http://[::1]:8100/x"],
)
def test_loopback_http_is_allowed_only_with_the_sandbox(url):
    assert url_policy.check_url(url, system=OKTA, sandbox=True) == url
    with pytest.raises(UrlRefused):
        url_policy.check_url(url, system=OKTA, sandbox=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.1:8100",
        "http://2130706433:8100",
        "http://10.0.0.1:8100",
        "http://evil.test:8100",
    ],
)
def test_sandbox_mode_still_refuses_other_loopback_spellings_and_hosts(url):
    with pytest.raises(UrlRefused):
        url_policy.check_url(url, system=OKTA, sandbox=True)


def test_sandbox_setting_is_the_default(settings):
    settings.PORTAL_SANDBOX = True
    assert url_policy.check_url("http://127.0.0.1:8100/zoom/v2", system=ZOOM)
    settings.PORTAL_SANDBOX = False
    with pytest.raises(UrlRefused):
        url_policy.check_url("http://127.0.0.1:8100/zoom/v2", system=ZOOM)


def test_error_message_names_the_allowed_hosts():
    with pytest.raises(UrlRefused, match="graph.microsoft.com"):
        url_policy.check_url("https://evil.test", system=GRAPH, sandbox=False)
