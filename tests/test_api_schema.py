"""A bounded schemathesis run against the OpenAPI spec: generated requests never get a 5xx."""

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from service.api.app import create_app
from tests.conftest import ARTICLE, make_container
from tests.fake_llm_server import FakeLLMServer

EXAMPLES_PER_OPERATION = 20


def test_generated_requests_never_get_a_server_error(indexed, tmp_path):
    # The llm mode is served by a fast OpenAI-compatible server on loopback: loading the local model on a
    # cold machine can outlast the client's 10 s timeout (the local model has its own tests).
    with FakeLLMServer("The Resht–Astara railway is 162 kilometers long [1].") as llm:
        run_generated_requests(indexed, tmp_path, llm.url)


def run_generated_requests(indexed, tmp_path, llm_url):
    # Its own index: generated uploads and deletes must not disturb the other tests' index.
    container = make_container(tmp_path / "index", share_model_with=indexed, llm_url=llm_url)
    container.ingest([Path(ARTICLE)])
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(container))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(checks=[not_a_server_error])

        check()
