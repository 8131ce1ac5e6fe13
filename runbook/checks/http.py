"""HTTP from the runner with httpx: one request, or a bounded load probe."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

#: hard bounds whatever the playbook asks: a probe must never become a load test
MAX_REQUESTS = 500
MAX_CONCURRENCY = 50


async def _one(client: httpx.AsyncClient, req: dict[str, Any]) -> dict[str, Any]:
    t0 = time.monotonic()
    try:
        resp = await client.request(req["method"], req["url"], headers=req.get("headers") or None)
        return {
            "http_code": resp.status_code,
            "total_s": round(time.monotonic() - t0, 4),
            "reason": resp.reason_phrase,
            "body": resp.text[:2000],
            "server": resp.headers.get("server", ""),
        }
    except httpx.TimeoutException:
        return {"http_code": None, "error": "timeout", "total_s": round(time.monotonic() - t0, 4)}
    except httpx.ConnectError as exc:
        return {"http_code": None, "error": f"connect: {exc}", "total_s": round(time.monotonic() - t0, 4)}
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return {"http_code": None, "error": f"{type(exc).__name__}: {exc}", "total_s": round(time.monotonic() - t0, 4)}


async def probe(req: dict[str, Any], timeout: float) -> tuple[dict[str, Any], str]:
    count = min(int(req.get("count", 1)), MAX_REQUESTS)
    concurrency = min(int(req.get("concurrency", 1)), MAX_CONCURRENCY)
    stop_on = set(req.get("stop_on") or [])
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False, trust_env=False) as client:
        if count == 1:
            r = await _one(client, req)
            if r["http_code"]:
                text = f"HTTP {r['http_code']} {r.get('reason', '')} in {r['total_s']:.3f}s\n{r.get('body', '')}"
            else:
                text = f"no HTTP response after {r['total_s']:.3f}s: {r.get('error')}"
            return r, text
        results: list[dict[str, Any] | None] = [None] * count
        next_index = 0
        stop = asyncio.Event()

        async def worker() -> None:
            nonlocal next_index
            while not stop.is_set() and next_index < count:
                i = next_index
                next_index += 1
                result = results[i] = await _one(client, req)
                if result["http_code"] in stop_on:
                    stop.set()

        t0 = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - t0
    done = [r for r in results if r is not None]
    codes: dict[str, int] = {}
    first_bad = None
    for i, res in enumerate(results):
        if res is None:
            continue
        code = str(res["http_code"] or res.get("error", "error"))
        codes[code] = codes.get(code, 0) + 1
        if first_bad is None and (res["http_code"] is None or res["http_code"] >= 500):
            first_bad = i + 1
    times = sorted(r["total_s"] for r in done)
    data = {
        "requests": len(done),
        "codes": codes,
        "first_failure_at": first_bad,
        "failures": sum(1 for r in done if r["http_code"] is None or r["http_code"] >= 500),
        "http_code": done[-1]["http_code"] if done else None,
        "p50_s": times[len(times) // 2] if times else None,
        "max_s": times[-1] if times else None,
        "elapsed_s": round(elapsed, 3),
        "statuses": [r["http_code"] for r in done],
    }
    lines = [
        f"{len(done)} requests, {concurrency} at a time, in {elapsed:.2f}s: "
        + ", ".join(f"{k}x{v}" for k, v in sorted(codes.items()))
    ]
    if first_bad:
        lines.append(f"first 5xx/failed response at request #{first_bad}")
    else:
        lines.append("no 5xx or failed responses")
    if times:
        lines.append(f"median {data['p50_s']:.3f}s, slowest {data['max_s']:.3f}s")
    return data, "\n".join(lines)
