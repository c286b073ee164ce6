"""How long do people wait for a reply while 2,000 check-ins go out? Prints one JSON object.

    python bench/send_burst.py

Starts the Bot API emulator and the real `python -m bot` behind the faulty proxy (no faults,
just the record of when each update was handed to the bot and when its reply went out), as the
e2e tests do. 2,000 check-ins are made due at once while 200 people type or tap over 20 s;
`interactive_p95_ms_under_burst` is the p95 from update handed over → first reply sent.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.faulty_proxy import faulty_proxy, interactive_p95_under_burst
from tests.e2e.harness import BotProcess, Emulator, HarnessError, emulator_problem


def measure() -> dict[str, Any]:
    problem = emulator_problem()
    if problem:
        raise HarnessError(problem)
    with tempfile.TemporaryDirectory(prefix="send-burst-") as workdir:
        emulator = Emulator.start(Path(workdir))
        try:
            with faulty_proxy(emulator.url) as proxy:
                bot = BotProcess.start(
                    emulator, Path(workdir), env={"TICK_SECONDS": "1", "BOT_API_URL": proxy.url}
                )
                try:
                    p95, detail = interactive_p95_under_burst(emulator, proxy, bot)
                finally:
                    bot.stop()
        finally:
            emulator.close()
    return {
        "interactive_p95_ms_under_burst": round(p95, 1),
        "interactive_p50_ms_under_burst": round(detail["p50_ms"], 1),
    }


def main() -> int:
    try:
        figures = measure()
    except HarnessError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
