"""Open the console on the sample Thai data (for looking at it in tmux): python tests/tui/run_sample.py DIR."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tui_sample import Config, FakeRunner, build_store

from console.tui.app import SarabanApp


def main() -> None:
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/saraban-sample")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "store.json"
    if path.exists():
        from console.store import Store

        store = Store(path)
    else:
        store = build_store(path)
    SarabanApp(store, FakeRunner(store), Config(export_dir=directory)).run()


if __name__ == "__main__":
    main()
