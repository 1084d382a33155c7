"""The real console for bench/screen.py: `open_console` (the CLI's wiring) on this terminal.

    python -m bench.screen_console --relay URL --token T --data-dir D --open CID --ready FILE

Runs the console on its stdin/stderr (the benchmark's pty) against a relay on loopback, with
in-memory credentials holding the relay token and Divar's API pointed at a closed loopback
port (nothing leaves the machine). Once the link is live and conversation CID has arrived,
it opens CID with its history focused (as a seller reading it would) and writes FILE; the
draw log (kenar_tui/draw_log.py, switched on by the benchmark's environment) does the rest.
The benchmark ends it with SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

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
    settings = Settings.load(
        args.data_dir / "none.toml",
        data_dir=args.data_dir,
        relay_url=args.relay,
        api_base=nowhere,
        oauth_base=nowhere,
        upload_base=nowhere,
    )
    credentials = CredentialStore(MemoryKeyring())
    credentials.relay_token = args.token
    log = quiet_logging(args.data_dir / "console.log")
    async with open_console(settings, credentials, logger=log) as app:
        running = asyncio.create_task(app.run_async())
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--relay", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--open", required=True)
    parser.add_argument("--ready", type=Path, required=True)
    parser.add_argument("--profile", type=Path, default=None, help="cProfile stats to this file")
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
