"""Property-based API testing from the OpenAPI document (schemathesis), against a live server:
no generated request gets a server error, and no operation answers without credentials."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import ignored_auth

from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration
EXAMPLES = 8  # per operation: bounded, so `make test` stays quick


def test_no_server_errors_and_no_unauthenticated_access(tmp_path: Path) -> None:
    # /metrics declares credentials in the document; make the server require them too.
    live_server = ServerProcess(tmp_path, env={"ALERTS_SECURITY__METRICS_PUBLIC": "false"})
    live_server.start()
    try:
        _fuzz(live_server)
    finally:
        live_server.stop()


def _fuzz(live_server: ServerProcess) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    auth = live_server.headers
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=auth, checks=[not_a_server_error, ignored_auth])

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert operations > 20
    assert failures == [], "\n\n".join(failures)
