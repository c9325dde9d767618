"""Stand-ins for the five platforms' APIs and webhooks, one module per platform (as stocklink.channels has
one adapter per platform); `registry.SIMULATORS` maps a platform name to its simulator.

Each simulator checks signatures with its own implementation of the platform's documented scheme (not
StockLink's adapter code), so a signing bug in an adapter shows up as a rejected call. Error bodies use
each platform's structure; where a platform's exact business error code is not public, the code used is
marked "sim" in a comment.
"""
