"""DNS from the runner with dnspython (optionally asking a given resolver)."""

from __future__ import annotations

from typing import Any

import dns.asyncresolver
import dns.exception
import dns.resolver


async def resolve(req: dict[str, Any], timeout: float) -> tuple[dict[str, Any], str]:
    resolver = dns.asyncresolver.Resolver(configure=req.get("server") is None)
    if req.get("server"):
        resolver.nameservers = [req["server"]]
    resolver.lifetime = timeout
    resolver.timeout = min(timeout, 2.0)
    data: dict[str, Any] = {"name": req["name"], "type": req["type"], "server": req.get("server"), "answers": []}
    try:
        answer = await resolver.resolve(req["name"], req["type"], search=False)
        data["answers"] = sorted(r.to_text() for r in answer)
        data["rcode"] = "NOERROR"
        data["ttl"] = answer.rrset.ttl if answer.rrset else None
    except dns.resolver.NXDOMAIN:
        data["rcode"] = "NXDOMAIN"
    except dns.resolver.NoAnswer:
        data["rcode"] = "NOERROR"
        data["note"] = "no records of that type"
    except dns.resolver.NoNameservers as exc:
        data["rcode"] = "SERVFAIL"
        data["error"] = str(exc)
    except dns.exception.Timeout:
        data["rcode"] = "TIMEOUT"
        data["error"] = f"no answer within {timeout:g}s"
    except dns.exception.DNSException as exc:
        data["rcode"] = "ERROR"
        data["error"] = f"{type(exc).__name__}: {exc}"
    text = f"{req['name']} {req['type']}: {data['rcode']}"
    if data["answers"]:
        text += "\n" + "\n".join(data["answers"])
    if data.get("error"):
        text += f"\n{data['error']}"
    return data, text
