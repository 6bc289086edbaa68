"""The asyncio streaming shell around the pure core.

``client`` (the public :class:`Client`), ``subscriptions`` (specs, delivery,
``Stale``), ``runner`` (one connection's lifecycle), ``rest_sync`` (REST
reconciliation and fallback polling), ``latency`` (histograms) and ``transport/``
(aiohttp, websockets). Nothing in ``core`` imports from here.
"""
