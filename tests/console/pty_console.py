"""The real console wired to a real relay and sandbox, run in a terminal by test_pty_hostile.

`python -m tests.console.pty_console INFO_JSON DATA_DIR` starts the demo's wiring (sandbox,
relay on loopback, in-memory credentials) with no simulated buyers, creates a relay token for a
teammate, writes where everything is to INFO_JSON (never to the terminal), and runs the
console on this process's terminal until it quits. Logs go to DATA_DIR/console.log.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path


async def main(info_path: Path, data_dir: Path) -> None:
    from kenar_tui.commands.console import quiet_logging
    from kenar_tui.commands.demo import demo_environment
    from kenar_tui.factory import open_console

    log = quiet_logging(data_dir / "console.log")
    async with (
        demo_environment(seed=7, rate=0.0, data_dir=data_dir, logger=log, operator="sara") as env,
        open_console(env.settings, env.credentials, logger=log) as app,
    ):
        info = {
            "relay_url": env.relay.url,
            "relay_ws": env.relay.ws_url,
            "sandbox_url": env.sandbox.base_url,
            "identification_key": env.sandbox.identification_key,
            "teammate_token": env.relay.ctx.tokens.create("reza"),
        }
        partial = info_path.with_suffix(".partial")
        partial.write_text(json.dumps(info), encoding="utf-8")
        os.replace(partial, info_path)  # the test never reads half a file
        await app.run_async()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
