"""Pure rules of the audit trail (what is recorded, what is kept of a body) and of tokens."""
import hashlib

from stocklink.domain import audit
from stocklink.domain.tokens import new_token, token_hash


def test_only_staff_and_admin_writes_on_their_routes_are_audited():
    staff, admin = frozenset({"staff"}), frozenset({"admin"})
    assert audit.is_audited("PUT", "staff", staff)
    assert audit.is_audited("DELETE", "admin", admin)
    assert audit.is_audited("PUT", "admin", staff)                    # a refused attempt is recorded too
    assert not audit.is_audited("GET", "admin", admin)                # reads
    assert not audit.is_audited("POST", "storefront", admin)          # storefront reservations
    assert not audit.is_audited("PUT", "staff", frozenset({"viewer"}))
    assert not audit.is_audited("POST", None, admin)                  # no token checked (webhooks)


def test_secret_named_values_are_replaced_at_any_depth():
    body = {"name": "x", "credential_fields": ["app_secret"], "nested": [{"access_token": "t", "qty": 1}],
            "Webhook_Secret": "s", "api_key": "k", "Authorization": "Bearer z"}
    assert audit.redact(body) == {"name": "x", "credential_fields": ["app_secret"],
                                  "nested": [{"access_token": "[redacted]", "qty": 1}],
                                  "Webhook_Secret": "[redacted]", "api_key": "[redacted]",
                                  "Authorization": "[redacted]"}


def test_fields_only_routes_and_large_bodies_keep_field_names():
    assert audit.summary("POST", "/tokens", {"name": "n", "token": "T"}) == {"fields": ["name", "token"]}
    assert audit.summary("PUT", "/shops/{platform}/{shop}", {"webhook_secret": "s"}) == {"fields": ["webhook_secret"]}
    big = {"a": "x" * 3000, "b": 1}
    assert audit.summary("PUT", "/skus/{sku}", big) == {"fields": ["a", "b"], "truncated": True}
    assert audit.summary("PUT", "/skus/{sku}", {"name": "tee"}) == {"name": "tee"}
    assert audit.summary("PUT", "/skus/{sku}", None) is None


def test_tokens_are_long_random_and_hashed_with_sha256():
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) >= 43 for t in tokens)
    token = next(iter(tokens))
    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
