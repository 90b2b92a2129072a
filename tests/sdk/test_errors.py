"""Error answers raise typed exceptions with status, type, code, field, message and the
answer's Request-Id; they are not retried."""

from __future__ import annotations

import socket

import httpx
import pivotal
import pytest

from tests.sdk.test_retries import Recorder


def test_not_found_carries_every_detail_and_the_request_id(api, ws):
    recorder = Recorder()
    with api.client(ws, http_client=recorder.client()) as client, \
            pytest.raises(pivotal.NotFoundError) as raised:
        client.customers.retrieve(424242)
    error = raised.value
    assert isinstance(error, pivotal.APIError) and isinstance(error, pivotal.PivotalError)
    assert (error.status, error.type, error.code, error.field) == (
        404, "not_found_error", "resource_not_found", None)
    assert "424242" in error.message
    assert error.request_id == recorder.responses[0][1].headers["request-id"]
    assert error.request_id.startswith("req_") and error.request_id in str(error)
    assert len(recorder.requests) == 1  # a 4xx is not retried


def test_an_invalid_parameter_names_its_field(pv):
    with pytest.raises(pivotal.InvalidRequestError) as raised:
        pv.customers.create(name="")
    assert (raised.value.status, raised.value.field) == (400, "name")
    with pytest.raises(pivotal.InvalidRequestError) as raised:
        pv.customers.list(limit=500)
    assert (raised.value.code, raised.value.field) == ("parameter_invalid", "limit")


def test_an_unknown_field_is_refused_not_ignored(pv):
    with pytest.raises(pivotal.InvalidRequestError) as raised:
        pv.customers.create(name="Acme", nmae="typo")
    assert raised.value.code == "parameter_unknown"
    assert raised.value.error == pivotal.ErrorBody(
        type="invalid_request_error", code="parameter_unknown",
        message=raised.value.message, field="nmae")


def test_a_duplicate_external_id_is_a_conflict_naming_the_existing_object(pv):
    first = pv.customers.create(name="Acme", external_id="hs-7")
    with pytest.raises(pivotal.ConflictError) as raised:
        pv.customers.create(name="Acme again", external_id="hs-7")
    assert (raised.value.status, raised.value.code) == (409, "resource_already_exists")
    assert first.id in raised.value.message


def test_a_wrong_key_is_an_authentication_error(api):
    with pivotal.Client("pivotal_test_" + "x" * 40, base_url=api.base_url) as client, \
            pytest.raises(pivotal.AuthenticationError) as raised:
        client.customers.list()
    assert (raised.value.status, raised.value.code) == (401, "invalid_api_key")
    assert raised.value.request_id.startswith("req_")


def test_a_client_without_a_key_is_refused_before_any_request(monkeypatch):
    monkeypatch.delenv("PIVOTAL_API_KEY", raising=False)
    with pytest.raises(ValueError, match="PIVOTAL_API_KEY"):
        pivotal.Client()


def test_an_answer_that_never_comes_is_a_timeout_error(ws):
    # a listener that accepts connections and never answers
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        client = pivotal.Client(ws.live_key, base_url=f"http://127.0.0.1:{port}/api/v1",
                                timeout=0.2, max_retries=0, http_client=httpx.Client())
        with pytest.raises(pivotal.APITimeoutError):
            client.customers.list()
