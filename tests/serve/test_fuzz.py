"""schemathesis against the OpenAPI spec, a bounded number of examples per endpoint: no 5xx, no traceback."""

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from niaga.serve.app import create_app

EXAMPLES_PER_ENDPOINT = 25


def test_api_never_answers_5xx_or_a_traceback(system):
    config, key = system
    app = create_app(config)
    with TestClient(app):  # runs the lifespan: the services the endpoints need
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 6
        for operation in operations:
            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES_PER_ENDPOINT, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def check(case):
                response = case.call(headers={"X-API-Key": key})
                assert response.status_code < 500, (operation.label, case.body, response.text[:300])
                assert "Traceback" not in response.text, operation.label

            check()
