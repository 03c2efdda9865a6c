"""Property-based run of the whole OpenAPI spec (schemathesis + hypothesis): no input gives a 5xx.

Requests carry a superuser's token so they reach the handlers; the database holds a customer,
a plan, a NAS and a service so that generated ids sometimes hit real rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api_client import Api, api_for, person
from tests.conftest import empty_database


@pytest.fixture
def fuzz_api(sqlite_database: str) -> Iterator[Api]:
    with api_for(sqlite_database) as api:
        plan = api.post(
            "/plans", {"name": "P", "price": "10.00", "download_kbps": 1000, "upload_kbps": 500}, expect=201
        )
        customer = api.post("/customers", person(), expect=201)
        api.post(
            "/services", {"customer_id": customer["id"], "plan_id": plan["id"], "login": "fuzz"}, expect=201
        )
        api.post("/nas", {"name": "n", "address": "10.9.9.9"}, expect=201)
        yield api
    empty_database(sqlite_database)


def test_no_input_causes_a_server_error(fuzz_api: Api) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz_api.client.app)
    headers = {"Authorization": f"Bearer {fuzz_api.token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: Counter[int] = Counter()
    assert len(operations) > 40
    for operation in operations:
        if operation.path == "/api/v1/auth/logout":
            continue  # would revoke the token the rest of the run uses

        @settings(
            max_examples=12,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            statuses[response.status_code // 100] += 1
            assert response.status_code < 500, (case.method, case.formatted_path, case.body, response.text)

        run()
    # The run reached the handlers (successes) and their validation (client errors), not only auth.
    assert statuses[2] > 50 and statuses[4] > 50, statuses
