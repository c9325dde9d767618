"""Demand forecasting and replenishment: a pure numpy engine (no AWS, no Lambda events).

`engine.run` takes a batch of daily sales histories and per-SKU supply facts and returns one
JSON-serialisable `SkuResult` per SKU. See DESIGN.md §8.
"""
