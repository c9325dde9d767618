"""Domain errors: types that say what went wrong, mapped to HTTP answers at the edge only."""
from __future__ import annotations


class StockLinkError(Exception):
    """Base of every error the API maps to a 4xx answer."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict:
        return {"error": self.code, "message": self.message, **self.details}

    def headers(self) -> dict[str, str]:
        return {}


class ValidationFailed(StockLinkError):
    status, code = 400, "validation_error"


class NotFound(StockLinkError):
    status, code = 404, "not_found"


class Unauthorized(StockLinkError):
    status, code = 401, "unauthorized"


class Forbidden(StockLinkError):
    status, code = 403, "forbidden"


class InsufficientStock(StockLinkError):
    """A line that the pool cannot cover; carries the SKU so the caller knows which one."""

    status, code = 409, "insufficient_stock"

    def __init__(self, sku: str, requested: int, available: int):
        super().__init__(
            f"{sku}: requested {requested}, available {available}",
            sku=sku, requested=requested, available=available,
        )
        self.sku, self.requested, self.available = sku, requested, available


class IdempotencyConflict(StockLinkError):
    status, code = 409, "idempotency_conflict"


class TooLargeForOneTransaction(StockLinkError):
    """A request whose stock movements do not fit in one DynamoDB transaction (100 items); nothing written."""

    status, code = 400, "too_large"


class InvalidTransition(StockLinkError):
    """A reservation asked to move to a state its current state does not allow."""

    status, code = 409, "invalid_transition"


class PresoldInTransit(StockLinkError):
    """A change would take units on their way from under presold ones (presale: each presold unit is backed by
    one unit in transit): refused, nothing written."""

    status, code = 409, "presold_in_transit"


class PresaleNotArrived(StockLinkError):
    """A presale order asked to ship while units it presold have not arrived (domain/presale.py): refused,
    nothing written; it ships once the receipt has brought them."""

    status, code = 409, "presale_not_arrived"


class PayloadTooLarge(StockLinkError):
    status, code = 413, "payload_too_large"


class AlreadyExists(StockLinkError):
    """A name that must be unique is taken (e.g. an API token's)."""

    status, code = 409, "already_exists"


class LastAdmin(StockLinkError):
    """Revoking this token would leave no admin token: nobody could make or revoke tokens any more."""

    status, code = 409, "last_admin"


class TooManyRequests(StockLinkError):
    """A per-token limit is reached; nothing was written."""

    status, code = 429, "too_many_requests"


class Busy(StockLinkError):
    """The change could not be made in time (DynamoDB kept cancelling it as a conflict); nothing was
    written and the same request may be sent again. A platform answered this redelivers its webhook."""

    status, code = 503, "busy"

    def __init__(self, message: str, retry_after_s: int, **details):
        super().__init__(message, retry_after_s=retry_after_s, **details)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}
