"""Every error gets a stable code, and nothing internal reaches the client."""

from __future__ import annotations

from graphql import GraphQLError

from graph.errors import Conflict, InvalidInput
from schema.errors import classify


def test_an_unexpected_error_is_masked_as_internal_without_its_message() -> None:
    leaked = RuntimeError("Invalid input 'MATCH (p:Person {idNumber: \"360732198311260035\"})'")
    error = classify(GraphQLError("boom", path=["child"], original_error=leaked))
    assert error.message == "Internal error."
    assert error.extensions == {"code": "INTERNAL"}
    assert error.original_error is None


def test_the_projects_own_errors_keep_their_code_and_field() -> None:
    bad = classify(
        GraphQLError("x", path=["recordVisit"], original_error=InvalidInput("on", "2031-01-01 is in the future"))
    )
    assert bad.extensions == {"code": "BAD_USER_INPUT", "field": "on"}
    assert bad.message == "on: 2031-01-01 is in the future"
    assert classify(GraphQLError("x", original_error=Conflict("closed cases are final"))).extensions == {
        "code": "CONFLICT"
    }


def test_a_variable_of_the_wrong_type_is_bad_user_input_naming_the_variable() -> None:
    error = classify(GraphQLError("Variable '$asOf' got invalid value 'soon'; Date expected."))
    assert error.extensions == {"code": "BAD_USER_INPUT", "field": "asOf"}
