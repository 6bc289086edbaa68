"""The margin REST API: typed models, the async client, and the Klear (SCM) client.

::

    from kalshi_margin_stream.rest import RestClient, RateLimits, RetryPolicy, Timeouts

    async with RestClient(credentials, env="demo", rate_limits=RateLimits(tier="basic")) as rest:
        balance = await rest.get_balance()
"""

from .base import CursorGuard
from .client import RestClient
from .errors import RestAuthError, code_matches, parse_error_body
from .ratelimit import BucketRate, RateLimiter, RateLimits, TokenBucket
from .retry import Op, RetryPolicy
from .scm import KlearClient, KlearCredentials
from .transport import REST_URLS, RestRequest, RestResponse, Send, Timeouts

__all__ = [
    "REST_URLS",
    "BucketRate",
    "CursorGuard",
    "KlearClient",
    "KlearCredentials",
    "Op",
    "RateLimiter",
    "RateLimits",
    "RestAuthError",
    "RestClient",
    "RestRequest",
    "RestResponse",
    "RetryPolicy",
    "Send",
    "Timeouts",
    "TokenBucket",
    "code_matches",
    "parse_error_body",
]
