"""The API's OpenAPI 3.1 contract: a table of routes (routes.py), response shapes (schemas.py) and the
document built from them (openapi.py), served at GET /openapi.json."""
from stocklink.contract.openapi import document

__all__ = ["document"]
