"""Who may read operator detail (database names, pools, metrics): one check, used by every such route.

Granted to a request that carries `Authorization: Bearer <OPERATOR_TOKEN>` (compared in constant time) or comes
from an address inside `OPERATOR_NETWORKS` (CIDRs; loopback by default in development, none in production and
the tests, because behind a reverse proxy every request comes from the proxy's address). Everyone else gets the
public answer, or 403 where there is nothing public to say.
"""
from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, jsonify, request

OperatorNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def operator_access_granted() -> bool:
    """Whether this request may see operator detail."""
    token: str | None = current_app.config.get("OPERATOR_TOKEN")
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if token and scheme == "Bearer" and hmac.compare_digest(presented.encode(), token.encode()):
        return True
    networks: tuple[OperatorNetwork, ...] = current_app.config.get("OPERATOR_NETWORKS") or ()
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in networks)


def require_operator_access(view: Callable[..., Any]) -> Callable[..., Any]:
    """Routes with nothing public to say (metrics): 403 JSON unless `operator_access_granted()`."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not operator_access_granted():
            response = jsonify(error="Operator access required")
            response.status_code = 403
            return response
        return view(*args, **kwargs)
    return wrapped
