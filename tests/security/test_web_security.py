"""CSRF on session writes and on login, login and predict rate limits, the app shell."""
from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from datagran.core.middleware import CONTENT_SECURITY_POLICY
from datagran.core.ratelimit import TOO_MANY_LOGINS

pytestmark = pytest.mark.django_db


def test_a_session_write_without_the_csrf_token_is_refused(user) -> None:
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(user)
    response = browser.post("/api/pipelines/", {"name": "x"}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["message"]
    browser.get("/")  # the app shell sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    ok = browser.post("/api/pipelines/", {"name": "x"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 201


def test_login_needs_the_csrf_token(user) -> None:
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/accounts/login/", {"username": "alice",
                                                 "password": "pw-alice-123"})
    assert response.status_code == 403


def test_too_many_failed_logins_are_refused_for_a_while(user, settings) -> None:
    from django.core.cache import cache

    cache.clear()
    browser = Client()
    with override_settings(DATAGRAN={**settings.DATAGRAN, "LOGIN_FAILURES_LIMIT": 3}):
        for _ in range(3):
            bad = browser.post("/accounts/login/", {"username": "alice", "password": "wrong"})
            assert bad.status_code == 200  # the form again, with its error
        locked = browser.post("/accounts/login/", {"username": "alice",
                                                   "password": "pw-alice-123"})
        assert locked.status_code == 429 and TOO_MANY_LOGINS in locked.content.decode()
        assert not browser.session.get("_auth_user_id")  # the good password did not sign in
        other = browser.post("/accounts/login/", {"username": "bob", "password": "x"})
        assert other.status_code == 200  # another name is not locked out
    cache.clear()


def test_a_good_login_lands_on_the_app(user) -> None:
    browser = Client()
    response = browser.post("/accounts/login/", {"username": "alice",
                                                 "password": "pw-alice-123"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert browser.get("/").status_code == 200


def test_the_app_shell_needs_a_login(db) -> None:
    response = Client().get("/runs/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_predictions_are_rate_limited_per_caller(api, settings) -> None:
    from django.core.cache import cache

    cache.clear()
    pipeline = api.post("/api/pipelines/", {"name": "p"}, format="json").json()
    with override_settings(DATAGRAN={**settings.DATAGRAN, "PREDICT_RATE": "2/min"}):
        codes = [api.post(f"/api/pipelines/{pipeline['id']}/predict", {"rows": [{}]},
                          format="json").status_code for _ in range(3)]
    assert codes[:2] == [400, 400] and codes[2] == 429
    cache.clear()


REDIS_CACHE = {"default": {"BACKEND": "datagran.core.cache.SharedPoolRedisCache",
                           "LOCATION": "redis://127.0.0.1:6379/15"}}  # its own


@pytest.mark.services
def test_requests_share_redis_connections_instead_of_opening_one_each(settings) -> None:
    # Django makes a cache backend per request context under ASGI; each used to open its own
    # connection to Redis.
    import redis
    from django.core.cache import caches

    settings.CACHES = REDIS_CACHE
    server = redis.Redis.from_url(REDIS_CACHE["default"]["LOCATION"])
    before = server.info("clients")["connected_clients"]
    backends = [caches.create_connection("default") for _ in range(20)]
    for i, backend in enumerate(backends):
        backend.set(f"k{i}", i)
        assert backend.get(f"k{i}") == i
    assert server.info("clients")["connected_clients"] - before <= 2


@pytest.mark.parametrize("backend", ["memory",
                                     pytest.param("redis", marks=pytest.mark.services)])
def test_the_prediction_rate_limit_is_a_sliding_window_and_says_when_to_retry(
        api, settings, monkeypatch, backend) -> None:
    from django.core.cache import cache

    from datagran.core import ratelimit

    if backend == "redis":  # production shares the counts between web processes in Redis
        settings.CACHES = REDIS_CACHE
        import redis

        assert redis.Redis.from_url(REDIS_CACHE["default"]["LOCATION"]).ping()
    cache.clear()
    clock = [6_000_000.0]  # the start of a minute
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock[0])
    pipeline = api.post("/api/pipelines/", {"name": "p"}, format="json").json()

    def predict() -> Any:
        return api.post(f"/api/pipelines/{pipeline['id']}/predict", {"rows": [{}]},
                        format="json")

    with override_settings(DATAGRAN={**settings.DATAGRAN, "PREDICT_RATE": "4/min"}):
        clock[0] += 10
        assert [predict().status_code for _ in range(4)] == [400] * 4
        refused = predict()
        assert refused.status_code == 429 and refused["Retry-After"] == "50"
        # Half-way through the next minute the four count for half: two more are allowed.
        clock[0] += 80
        assert [predict().status_code for _ in range(3)] == [400, 400, 429]
        # A minute after those, only they count, for a quarter.
        clock[0] += 45
        assert predict().status_code == 400
        if backend == "redis":
            assert any(b"predict-rate" in k for k in redis.Redis.from_url(
                REDIS_CACHE["default"]["LOCATION"]).keys())
    cache.clear()


def test_sign_up_creates_an_account_with_a_personal_workspace_and_signs_in(db) -> None:
    from django.contrib.auth import get_user_model

    browser = Client()
    assert browser.get("/accounts/signup/").status_code == 200
    weak = browser.post("/accounts/signup/", {"username": "zoe", "password1": "short",
                                              "password2": "short"})
    assert weak.status_code == 400 and "too short" in weak.content.decode()
    response = browser.post("/accounts/signup/", {"username": "zoe",
                                                  "password1": "a-long-passphrase-9",
                                                  "password2": "a-long-passphrase-9"})
    assert response.status_code == 302
    zoe = get_user_model().objects.get(username="zoe")
    assert zoe.personal_workspace is not None
    assert browser.get("/").status_code == 200  # signed in


def test_a_request_body_over_the_limit_is_a_413(api, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post("/api/pipelines/", {"name": "x" * 5000}, format="json")
    assert response.status_code == 413 and "larger than" in response.json()["message"]


def test_a_pickle_posing_as_a_model_never_runs(api, tmp_path) -> None:
    import io
    import os
    import pickle

    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):  # noqa: ANN204
            return (os.system, (f"touch {marker}",))

    fh = io.BytesIO(pickle.dumps(Exploit()))
    fh.name = "model.skops"
    response = api.post("/api/models/import/", {"file": fh, "name": "evil"},
                        format="multipart")
    assert response.status_code == 400 and not marker.exists()


def test_a_small_gzip_that_would_inflate_hugely_is_refused_without_inflating(api) -> None:
    import gzip
    import io
    import tracemalloc

    bomb = gzip.compress(b"a,b\n" + b"1,2\n" * 25_000_000)  # ~100 MB inflated, ~100 KB sent
    assert len(bomb) < 1_000_000
    peaks = []
    for send in (
        lambda: api.post("/api/datasets/", {"file": named(io.BytesIO(bomb), "data.csv.gz")},
                         format="multipart"),
        lambda: api.generic("POST", "/api/pipelines/", bomb, content_type="application/json",
                            HTTP_CONTENT_ENCODING="gzip"),
    ):
        send()  # the first call imports modules: measure the second
        tracemalloc.start()
        response = send()
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert response.status_code in (400, 413), response.content[:200]
    assert max(peaks) < 50_000_000, peaks  # nothing was inflated


def named(fh, name: str):  # noqa: ANN001, ANN201
    fh.name = name
    return fh


@pytest.mark.parametrize("path", ["/", "/pipelines/x", "/accounts/login/", "/accounts/signup/",
                                  "/admin/login/", "/api/docs/"])
def test_every_html_page_carries_the_content_security_policy(user, path) -> None:
    browser = Client()
    if not path.startswith(("/accounts/", "/admin/")):
        browser.force_login(user)
    response = browser.get(path)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    # No page relies on inline script, which the policy refuses (JSON data blocks are inert).
    inline = [tag for tag in response.content.decode().split("<script")[1:]
              if 'src="' not in tag.split(">")[0] and "application/json" not in tag.split(">")[0]]
    assert not inline, inline
