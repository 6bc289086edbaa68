"""The asyncio streaming shell around the pure core.

``client`` (the public :class:`Client`), ``router`` (the session's sink: who
gets which message), ``subscriptions`` (specs, delivery, ``Stale``), ``runner``
(the reconnect loop; per connection one reader, one writer, one watchdog),
``rest_sync`` (REST reconciliation and fallback polling), ``latency``
(histograms) and ``transport/`` (aiohttp, websockets, picows). Nothing in
``core`` imports from here.
"""
