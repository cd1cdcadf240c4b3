"""A bot process for tests/test_durability.py: the real Application (offline Telegram) over a database
URL, driven by an action lead posting one-line progress updates. It prints one line per confirmation
the user would see, so the test can kill it (SIGKILL) at any moment and check the database.

    python -m tests.durability_worker URL stream FIRST COUNT   # /update 1.1 green durability #i, confirm; "SAVED i"
    python -m tests.durability_worker URL ask I                # /update ... then wait (to be killed); "ASKED data"
    python -m tests.durability_worker URL press DATA I         # press the confirm button after a restart
"""

from __future__ import annotations

import asyncio
import sys

from bot import build_application, start_services
from core.offline import OfflineRequest
from core.settings import load_settings
from tests.harness import ChatDriver

LEAD = 1002


def line(i: int) -> str:
    return f"/update 1.1 green durability #{i}"


def comment(i: int) -> str:
    return f"durability #{i}"


def _saved(sent: list) -> bool:
    return any(s.method == "answerCallbackQuery" and s.params.get("text") == "Saved" for s in sent)


async def _confirm_data(chat: ChatDriver, i: int) -> str:
    sent = await chat.send(line(i), user=LEAD)
    data = [d for s in sent for _label, d in s.buttons if d.startswith("ups:")]
    if not data:
        raise SystemExit(f"no confirm button for #{i}: {[s.text for s in sent]}")
    return data[0]


async def main(url: str, mode: str, *args: str) -> None:
    settings = load_settings(database_url=url, admin_telegram_ids=(1004,), telegram_bot_token=None)
    request = OfflineRequest()
    application = build_application(settings, request, rate_limit=False)
    async with application:
        await start_services(application)
        chat = ChatDriver(application, request)
        if mode == "stream":
            first, count = int(args[0]), int(args[1])
            for i in range(first, first + count):
                data = await _confirm_data(chat, i)
                if _saved(await chat.press(data, user=LEAD)):
                    print(f"SAVED {i}", flush=True)
        elif mode == "ask":
            data = await _confirm_data(chat, int(args[0]))
            print(f"ASKED {data}", flush=True)
            await asyncio.sleep(3600)  # the test kills us here
        elif mode == "press":
            if _saved(await chat.press(args[0], user=LEAD)):
                print(f"SAVED {args[1]}", flush=True)
            else:
                print(f"NOT SAVED {[(s.method, s.text or s.params.get('text')) for s in chat.sent]}", flush=True)
    await application.bot_data["services"].close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
