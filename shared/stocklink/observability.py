"""Logger and metrics created once per container and shared by every module.

Tracer is deliberately absent: it loads the X-Ray SDK (~260 ms cold start, DESIGN.md §7).
"""
import warnings

from aws_lambda_powertools import Logger, Metrics

# Read-only requests publish no metric; powertools warns on every such invocation, which only adds noise.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service="stocklink")
metrics = Metrics(namespace="StockLink", service="stocklink")
