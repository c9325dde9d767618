"""`make demo` (`python -m infra.local.cli local --demo`): StockLink with the marketplace simulators.

What it does, once the local runtime answers GET /health (`run.run_demo` wires the steps):
  1. starts the simulators (infra/sandbox) on loopback, in this process (`client.start_sandbox`);
  2. seeds three warehouses, 20 SKUs, one shop per platform (Shopify, TikTok Shop, Shopee, Lazada,
     WooCommerce) pointed at its simulator, and a listing for every SKU on every platform (`seed`);
  3. receives the stock and waits until every simulator shows StockLink's quantities (`measure.wait_in_sync`);
  4. runs the story: a TikTok Shop flash sale (200 one-unit orders for a SKU with 120 units) while Shopee
     and Lazada keep selling it, every order placed through the simulator's /_sandbox/orders from many
     threads at once, as buyers would (a buyer orders only while the platform still shows stock, and the
     shop's checkout refuses what its listing no longer shows) (`sale`);
  5. waits for every late webhook (`--webhook-delay`, `--reorder`: the simulators' delivery settings) and
     for the platforms to settle, measures what happened (`measure`) and prints it (`report`).

Modules: client (HTTP helper, StockLink's API and the simulators' control plane), seed, sale, measure,
report, run.

Measured figures come from the simulators' own call logs (`/_sandbox/calls`: every stock call the
platforms received, with its time and the quantities it set), their delivery logs (`/_sandbox/deliveries`:
every webhook with its delay, attempts and StockLink's answer) and from StockLink's API, never from
StockLink's internal counters alone. `tests/bench/sync_latency.py` runs the same machinery headless.
"""
