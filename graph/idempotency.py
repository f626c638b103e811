"""Idempotency keys: a retried mutation returns its first result and writes nothing again.

A key is the client's `clientMutationId` or `Idempotency-Key` header, namespaced by the
caller's subject and the operation, so two callers (or two operations) never share one.
`(:IdempotencyKey {key, sub, operation, fingerprint, resultId, at})` is claimed and filled in
the mutation's own write transaction: if the mutation fails, the key is gone with it and a
retry performs it afresh. Claiming is a `MERGE` on the uniquely constrained `key`, which
Neo4j serialises, so two requests carrying one key at the same moment cannot both write.
"""

from __future__ import annotations

from typing import LiteralString

from neo4j import AsyncManagedTransaction

from graph.errors import Conflict, InvalidInput

MAX_KEY_LENGTH = 200

CLAIM: LiteralString = """
MERGE (k:IdempotencyKey {key: $key})
ON CREATE SET k.sub = $sub, k.operation = $operation, k.fingerprint = $fingerprint, k.at = datetime()
RETURN k.resultId AS resultId, k.fingerprint AS fingerprint
"""

REMEMBER: LiteralString = """
MATCH (k:IdempotencyKey {key: $key})
SET k.resultId = $resultId
"""


def stored_key(sub: str, operation: str, key: str) -> str:
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput("clientMutationId", f"must be 1 to {MAX_KEY_LENGTH} characters")
    return f"{sub}|{operation}|{key}"


async def claim_in(tx: AsyncManagedTransaction, sub: str, operation: str, key: str, fingerprint: str) -> str | None:
    """Claim `key` for this request; the first result's id when it was performed already."""
    result = await tx.run(
        CLAIM,
        {"key": stored_key(sub, operation, key), "sub": sub, "operation": operation, "fingerprint": fingerprint},
    )
    record = await result.single(strict=True)
    if record["resultId"] is None:
        return None
    if record["fingerprint"] != fingerprint:
        raise Conflict("this idempotency key was used for a different request")
    return str(record["resultId"])


async def remember_in(tx: AsyncManagedTransaction, sub: str, operation: str, key: str, result_id: str) -> None:
    await tx.run(REMEMBER, {"key": stored_key(sub, operation, key), "resultId": result_id})
