"""Logger and metrics created once per container and shared by every module.

Tracer is deliberately absent: it loads the X-Ray SDK (~260 ms cold start, DESIGN.md §7).
"""
from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="stocklink")
metrics = Metrics(namespace="StockLink", service="stocklink")
