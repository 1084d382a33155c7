"""The real console for bench/screen.py: `open_console` (the CLI's wiring) on this terminal.

    python -m bench.screen_console --relay URL --token T --data-dir D --open CID --ready FILE

Runs the console on its stdin/stderr (the benchmark's pty) against a relay on loopback, with
in-memory credentials holding the relay token and Divar's API pointed at a closed loopback
port (nothing leaves the machine). Once the link is live and conversation CID has arrived,
it opens CID with its history focused (as a seller reading it would) and writes FILE; the
draw log (kenar_tui/draw_log.py, switched on by the benchmark's environment) does the rest.
The benchmark ends it with SIGTERM.

For bench/console_catchup.py (`--current FILE --expect N --conversations M`): CID is opened
as soon as it arrives, while the backlog is still coming (FILE's `ready` is written then, so
keys can be timed during the catch-up), and once the console is current (live, `last_seq`
at N, its list showing M conversations) FILE gets a JSON line with the wall-clock times and
what the list holds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procs import free_port


async def run(args: argparse.Namespace) -> None:
    from kenar_tui.commands.console import quiet_logging
    from kenar_tui.config import Settings
    from kenar_tui.credentials import CredentialStore
    from kenar_tui.factory import open_console
    from kenar_tui.keyring_memory import MemoryKeyring

    nowhere = f"http://127.0.0.1:{free_port()}"  # refused at once: no traffic leaves loopback
    # The sample webhook was sent in 2024: past the default 30 days, its items would be
    # purged as they arrive. A catch-up keeps them, as it would keep a real recent backlog.
    keep = {"cache_retention_days": 36_500, "body_retention_days": 36_500}
    settings = Settings.load(
        args.data_dir / "none.toml",
        data_dir=args.data_dir,
        relay_url=args.relay,
        api_base=nowhere,
        oauth_base=nowhere,
        upload_base=nowhere,
        **(keep if args.current is not None else {}),
    )
    credentials = CredentialStore(MemoryKeyring())
    credentials.relay_token = args.token
    log = quiet_logging(args.data_dir / "console.log")
    async with open_console(settings, credentials, logger=log) as app:
        running = asyncio.create_task(app.run_async())
        if args.current is not None:
            await catch_up(app, running, args)
            await running
            return
        while not (app.feed.live and app.inbox.conversation(args.open) is not None):
            if running.done():
                await running
                raise RuntimeError("the console quit before it was live")
            await asyncio.sleep(0.02)
        app.main_screen.show_conversation(args.open)
        app.main_screen.history.focus()
        await asyncio.sleep(0.2)
        args.ready.write_text("ready", encoding="ascii")
        await running


async def catch_up(app: Any, running: asyncio.Task[Any], args: argparse.Namespace) -> None:
    """Open CID as soon as it is stored; note when the console is current, and its list."""
    started_ns = time.time_ns()

    async def until(done: Callable[[], bool]) -> None:
        while not done():
            if running.done():
                await running
                raise RuntimeError("the console quit before it was current")
            await asyncio.sleep(0.01)

    main = app.main_screen
    await until(lambda: app.inbox.conversation(args.open) is not None)
    main.show_conversation(args.open)
    main.history.focus()
    opened_ns = time.time_ns()
    args.ready.write_text("ready", encoding="ascii")
    await until(
        lambda: (
            app.feed.live
            and app.inbox.last_seq >= args.expect
            and len(main.conversations.conversation_ids) >= args.conversations
        )
    )
    current_ns = time.time_ns()
    summaries = [c for post in app.inbox.posts() for c in post.conversations]
    report = {
        "started_ns": started_ns,
        "opened_ns": opened_ns,
        "current_ns": current_ns,
        "last_seq": app.inbox.last_seq,
        "listed": len(main.conversations.conversation_ids),
        "listed_distinct": len(set(main.conversations.conversation_ids)),
        "items_in_summaries": sum(c.history_count for c in summaries),
        "cache_file": str(app.settings.cache_file),
    }
    args.current.write_text(json.dumps(report) + "\n", encoding="ascii")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--relay", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--open", required=True)
    parser.add_argument("--ready", type=Path, required=True)
    parser.add_argument("--profile", type=Path, default=None, help="cProfile stats to this file")
    parser.add_argument("--current", type=Path, default=None, help="catch-up mode: report here")
    parser.add_argument("--expect", type=int, default=0, help="catch-up: the relay's head seq")
    parser.add_argument("--conversations", type=int, default=0, help="catch-up: list length")
    args = parser.parse_args()
    if args.profile is None:
        asyncio.run(run(args))
        return
    import cProfile

    profiler = cProfile.Profile()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so the stats are written
    try:
        profiler.runcall(asyncio.run, run(args))
    finally:
        profiler.dump_stats(args.profile)


if __name__ == "__main__":
    main()
