"""TCP connect from the runner, with a timeout."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import time
from typing import Any


async def connect(req: dict[str, Any], timeout: float) -> tuple[dict[str, Any], str]:
    t0 = time.monotonic()
    state = "open"
    detail = ""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(req["host"], req["port"]), timeout)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    except TimeoutError:
        state, detail = "timeout", f"no answer within {timeout:g}s"
    except ConnectionRefusedError:
        state, detail = "refused", "connection refused"
    except OSError as exc:
        state = "no-route" if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH) else "error"
        detail = exc.strerror or str(exc)
    elapsed = round(time.monotonic() - t0, 4)
    data = {"host": req["host"], "port": req["port"], "state": state, "elapsed_s": elapsed}
    text = f"{req['host']}:{req['port']} {state} after {elapsed:.3f}s" + (f" ({detail})" if detail else "")
    return data, text
