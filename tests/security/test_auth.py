"""Signing in and signing up as an attacker would: the login throttle (the app's and the
admin's sign-in share it; behind proxies it counts per client, not per proxy), sign-up's
password rules and its off switch, and the URL secrets (webhook and invitation tokens) kept
out of the server's logs. The race, the proxy and the logs are tested against a real daphne
with its counters in Redis."""
from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, RequestFactory, override_settings

from datagran.core.env import parse_trusted_proxies
from datagran.core.ratelimit import TOO_MANY_LOGINS, client_address
from datagran.web.views import SIGNUP_OFF
from tests.live.server import REDIS_URL, LiveServer

LIMIT = 10  # DATAGRAN_LOGIN_FAILURES_LIMIT's default


@pytest.fixture
def clean_cache(settings):
    # Each refused guess is one password check less: fast hashing keeps the test short.
    settings.PASSWORD_HASHERS = [f"django.contrib.auth.hashers.{name}PasswordHasher"
                                 for name in ("MD5", "PBKDF2")]
    cache.clear()
    yield
    cache.clear()


# --- sign-up -------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize(("password", "message"), [
    ("password", "This password is too common."),
    ("8675309123", "This password is entirely numeric."),
    ("zoe-smith", "The password is too similar to the username."),
    ("s3cr3t", "This password is too short."),
])
def test_a_weak_password_at_sign_up_is_a_400_naming_the_field_and_creates_no_account(
        password, message) -> None:
    response = Client().post("/accounts/signup/", {
        "username": "zoe-smith", "password1": password, "password2": password})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors["password1"]), errors.as_data()
    assert message in response.content.decode()
    assert not get_user_model().objects.filter(username="zoe-smith").exists()


@pytest.mark.django_db
def test_with_sign_up_off_the_page_and_the_form_answer_403_and_create_nothing(settings) -> None:
    settings.DATAGRAN = {**settings.DATAGRAN, "SIGNUP": False}
    browser = Client()
    page = browser.get("/accounts/signup/")
    assert page.status_code == 403 and SIGNUP_OFF in page.content.decode()
    attempt = browser.post("/accounts/signup/", {"username": "eve", "password1": "a-long-pass-9",
                                                 "password2": "a-long-pass-9"})
    assert attempt.status_code == 403
    assert not get_user_model().objects.filter(username="eve").exists()
    assert "Create an account" not in browser.get("/accounts/login/").content.decode()


# --- the throttle, in process ----------------------------------------------------------------

@pytest.mark.django_db
def test_the_admin_sign_in_is_throttled_with_the_same_counter_as_the_app(clean_cache) -> None:
    get_user_model().objects.create_superuser("root", password="root-pass-1234")
    browser = Client()
    for i in range(LIMIT - 1):
        assert browser.post("/admin/login/", {"username": "root",
                                              "password": f"guess{i}"}).status_code == 200
    assert browser.post("/accounts/login/", {"username": "root",
                                             "password": "guess"}).status_code == 200
    for path in ("/admin/login/", "/accounts/login/"):
        locked = browser.post(path, {"username": "root", "password": "root-pass-1234"})
        assert locked.status_code == 429 and TOO_MANY_LOGINS in locked.content.decode()
    assert not browser.session.get("_auth_user_id")  # the right password signed nobody in
    assert browser.get("/admin/").status_code == 302  # still signed out


@pytest.mark.django_db
def test_a_name_spelled_another_way_shares_the_count(user, clean_cache) -> None:
    browser = Client()
    for name in ["alice", "ALICE", "Alice"] * 3 + ["alice"]:
        assert browser.post("/accounts/login/", {"username": name,
                                                 "password": "guess"}).status_code == 200
    # Full-width letters sign in as alice (the form normalises NFKC): the same lock.
    locked = browser.post("/accounts/login/", {"username": "ａｌｉｃｅ",
                                               "password": "pw-alice-123"})
    assert locked.status_code == 429 and not browser.session.get("_auth_user_id")


@pytest.mark.django_db
def test_a_signed_in_user_posting_another_name_does_not_clear_its_count(
        user, clean_cache) -> None:
    attacker = Client()
    for _ in range(LIMIT - 1):
        attacker.post("/accounts/login/", {"username": "victim", "password": "guess"})
    attacker.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"})
    assert attacker.session.get("_auth_user_id")  # signed in as alice
    attacker.post("/accounts/login/", {"username": "victim", "password": "guess"})
    refused = attacker.post("/accounts/login/", {"username": "victim", "password": "guess"})
    assert refused.status_code == 429


@pytest.mark.parametrize(("trusted", "forwarded", "remote", "client"), [
    ("", "203.0.113.9", "10.0.0.2", "10.0.0.2"),  # no proxy trusted: the header is ignored
    ("1", "203.0.113.9", "10.0.0.2", "203.0.113.9"),
    ("1", "6.6.6.6, 203.0.113.9", "10.0.0.2", "203.0.113.9"),  # a spoofed left entry
    ("2", "6.6.6.6, 203.0.113.9, 10.0.0.3", "10.0.0.2", "203.0.113.9"),
    ("10.0.0.0/8", "6.6.6.6, 203.0.113.9, 10.0.0.3", "10.0.0.2", "203.0.113.9"),
    ("10.0.0.0/8", "203.0.113.9", "198.51.100.1", "198.51.100.1"),  # not from the proxy
    ("10.0.0.0/8, ::1", "2001:db8::7", "::1", "2001:db8::7"),
    ("3", "", "10.0.0.2", "10.0.0.2"),  # fewer hops than proxies: the left-most
])
def test_the_client_address_is_the_right_most_one_no_trusted_proxy_added(
        trusted, forwarded, remote, client) -> None:
    from django.conf import settings

    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(DATAGRAN={**settings.DATAGRAN,
                                     "TRUSTED_PROXIES": parse_trusted_proxies(trusted)}):
        assert client_address(request) == client


# --- the throttle against a real daphne with its counters in Redis ----------------------------

CACHE_URL = f"{REDIS_URL}/9"


@pytest.fixture(scope="module")
def server():
    redis.Redis.from_url(CACHE_URL).flushdb()
    with LiveServer(mode="embedded", extra_env={"CACHE_URL": CACHE_URL,
                                                "DATAGRAN_TRUSTED_PROXIES": "1"}) as live:
        yield live
    redis.Redis.from_url(CACHE_URL).flushdb()


def login_form(server: LiveServer) -> tuple[str, str]:
    """The CSRF cookie and the form's token, as a browser gets them."""
    page = httpx.get(server.base_url + "/accounts/login/")
    token = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[0]
    return page.cookies["csrftoken"], token


def sign_in(server: LiveServer, csrf: tuple[str, str], password: str, *,
            forwarded_for: str) -> int:
    """POST the login form as the proxy would pass it on; the status code."""
    response = httpx.post(server.base_url + "/accounts/login/", cookies={"csrftoken": csrf[0]},
                          data={"csrfmiddlewaretoken": csrf[1], "username": "demo",
                                "password": password},
                          headers={"X-Forwarded-For": forwarded_for}, timeout=120)
    return response.status_code


@pytest.mark.services
def test_forty_parallel_wrong_passwords_check_at_most_the_limit_and_lock_out_one_address(
        server) -> None:
    csrf = login_form(server)
    attacker = "203.0.113.66"
    start = threading.Barrier(40)

    def guess(i: int) -> int:
        start.wait()
        return sign_in(server, csrf, f"wrong-{i}", forwarded_for=attacker)

    began = time.monotonic()
    with ThreadPoolExecutor(40) as pool:
        codes = list(pool.map(guess, range(40)))
    checked, refused = codes.count(200), codes.count(429)
    print(f"40 parallel wrong passwords: {checked} checked, {refused} refused (429) "
          f"in {time.monotonic() - began:.1f} s")
    assert checked + refused == 40 and checked <= LIMIT and refused >= 40 - LIMIT, codes
    # The attacker's address stays locked, whatever it writes to the left of the header the
    # proxy extends; the user signs in from their own address behind the same proxy.
    assert sign_in(server, csrf, "datagran-demo",
                   forwarded_for=f"198.51.100.7, {attacker}") == 429
    assert sign_in(server, csrf, "datagran-demo", forwarded_for="198.51.100.7") == 302
    keys = redis.Redis.from_url(CACHE_URL).keys("*login-failures*")
    assert any(attacker.encode() in key for key in keys), keys  # counted in Redis


@pytest.mark.services
def test_webhook_and_invitation_secrets_stay_out_of_the_server_logs(server) -> None:
    from tests.live.server import pipeline_ids

    pipeline = next(iter(pipeline_ids(server).values()))
    hook = server.api("POST", f"/api/pipelines/{pipeline}/webhook/")["url"]
    hook_secret = hook.rstrip("/").rsplit("/", 1)[1]
    wrong_secret = "wrong-hook-secret-CANARY"
    invitation_secret = "invitation-secret-CANARY"
    query_secret = "query-token-CANARY"
    verify_secret = "verify-email-secret-CANARY"
    assert server.request("POST", hook.replace(server.base_url, ""))[0] == 201
    assert server.request("POST", f"/api/hooks/{pipeline}/{wrong_secret}/")[0] == 404
    assert server.request("POST", f"/api/invitations/{invitation_secret}/accept/")[0] in (
        400, 404)
    assert server.request("GET", f"/api/nowhere/?token={query_secret}&x=1")[0] == 404
    assert server.request("POST", f"/api/invitations/{verify_secret}/verify-email/")[0] >= 400
    time.sleep(0.5)  # daphne writes its access line after the response
    log = server.log("daphne")
    print("\n".join(line for line in log.splitlines() if "[redacted]" in line))
    for secret in (hook_secret, wrong_secret, invitation_secret, query_secret, verify_secret):
        assert secret not in log
    assert f'"POST /api/hooks/{pipeline}/[redacted]/" 201' in log  # daphne's access log
    assert f"Not Found: /api/hooks/{pipeline}/[redacted]/" in log  # Django's request log
    assert "/api/invitations/[redacted]/accept/" in log
    assert "/api/invitations/[redacted]/verify-email/" in log
