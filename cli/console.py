"""The offline console: the same Application and handlers, played in a terminal.

What the bot sends is shown readably (HTML as plain text, bold when the terminal can show it),
inline keyboards as numbered buttons that the user presses by typing the number, and files are
saved to a folder and named. Standard input that is not a terminal is read line by line, so a
session can be scripted: printf '/start\\n/find smith\\n1\\n' | partnerbot console --as 1001
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from pathlib import Path
from typing import TextIO

from core.offline import OfflineRequest, Sent, UpdateFactory
from core.settings import Settings

HELP = """Console commands (everything else is sent to the bot as a message):
  NUMBER            press button NUMBER of the last message with buttons
  :as ID            talk as another user (demo: 1001 member, 1002 lead, 1003 coordinator, 1004 admin, 9001 stranger)
  :file PATH [CAPTION]   send a file to the bot, as a user uploading a document
  :help             this help
  :quit             leave (Ctrl-D works too)"""


class Renderer:
    """Prints what the bot sends; remembers the last buttons shown to the current user."""

    def __init__(self, out: TextIO, files_dir: Path, user_id: int, colour: bool):
        self.out = out
        self.files_dir = files_dir
        self.user_id = user_id
        self.colour = colour
        self.buttons: list[tuple[str, str]] = []
        self.names: dict[int, str] = {}

    def readable(self, text: str) -> str:
        bold_on, bold_off = ("\033[1m", "\033[0m") if self.colour else ("", "")
        text = re.sub(r"<a href=\"([^\"]*)\">(.*?)</a>", r"\2 (\1)", text, flags=re.S)
        text = re.sub(r"</?(b|strong)>", lambda m: bold_off if m.group(0).startswith("</") else bold_on, text)
        text = re.sub(r"</?(i|em)>", "_", text)
        text = re.sub(r"<[^>]+>", "", text)
        return html.unescape(text)

    def show(self, sent: Sent) -> None:
        if sent.method == "answerCallbackQuery":
            if sent.params.get("text"):
                self.print(f"  ⓘ {sent.params['text']}")
            return
        if sent.method not in {"sendMessage", "editMessageText", "sendDocument", "sendPhoto"}:
            return
        to = sent.chat_id
        if to is not None and to != self.user_id:
            who = self.names.get(to, str(to))
            self.print(f"  ↪ (to {who}) " + self.readable(sent.text).replace("\n", "\n    "))
            return
        prefix = "bot (edited)>" if sent.method == "editMessageText" else "bot>"
        for key in ("document", "photo"):
            if key in sent.files:
                filename, content = sent.files[key]
                self.files_dir.mkdir(parents=True, exist_ok=True)
                path = self.files_dir / Path(filename).name
                path.write_bytes(content)
                self.print(f"{prefix} 📎 {path.name} ({len(content):,} bytes) saved to {path}")
                prefix = "    "
        if sent.text:
            self.print(f"{prefix} " + self.readable(sent.text).replace("\n", "\n     "))
        if sent.buttons:
            self.buttons = sent.buttons
            for number, (label, _data) in enumerate(sent.buttons, start=1):
                self.print(f"     [{number}] {label}")

    def print(self, line: str) -> None:
        print(line, file=self.out, flush=True)


def run_console(settings: Settings, as_id: int | None, load_demo_data: bool = True,
                stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    return asyncio.run(console_session(settings, as_id, load_demo_data, stdin or sys.stdin, stdout or sys.stdout))


async def console_session(settings: Settings, as_id: int | None, load_demo_data: bool, stdin: TextIO,
                          stdout: TextIO) -> int:
    from bot import build_application, start_services
    from cli.main import load_demo, migrate

    await migrate(settings)
    demo_users: dict[int, tuple[str, str]] = {}
    if load_demo_data:
        from directory.demo import DEMO_USERS

        demo_users = DEMO_USERS
        await load_demo(settings)
    user_id = as_id if as_id is not None else 1001
    interactive = stdin.isatty()
    renderer = Renderer(stdout, Path(settings.console_files_dir), user_id, colour=interactive and stdout.isatty())
    renderer.names = {uid: f"{uid} {desc[0]}" for uid, desc in demo_users.items()}
    request = OfflineRequest(on_call=renderer.show)
    application = build_application(settings, request, rate_limit=False)
    factory = UpdateFactory(application.bot)

    def describe(uid: int) -> str:
        role, description = demo_users.get(uid, ("", ""))
        return f"{uid} ({role}: {description})" if role else str(uid)

    try:  # the engine is closed however the session ends (Ctrl-C, an error)
        async with application:
            await start_services(application)
            renderer.print(f"PartnerBot console, offline. You are {describe(user_id)}. "
                           "Type :help for console commands.")
            loop = asyncio.get_running_loop()
            while True:
                if interactive:
                    try:
                        line = await loop.run_in_executor(None, input, "you> ")
                    except EOFError:
                        break
                else:
                    line = stdin.readline()
                    if not line:
                        break
                    line = line.rstrip("\n")
                    renderer.print(f"you> {line}")
                line = line.strip()
                if not line:
                    continue
                if line in {":quit", ":q", ":exit"}:
                    break
                if line == ":help":
                    renderer.print(HELP)
                    continue
                if line.startswith(":as "):
                    try:
                        user_id = int(line.split()[1])
                    except (IndexError, ValueError):
                        renderer.print("  usage: :as TELEGRAM_ID")
                        continue
                    renderer.user_id = user_id
                    renderer.buttons = []
                    renderer.print(f"  You are now {describe(user_id)}.")
                    continue
                if line.startswith(":file "):
                    parts = line.split(maxsplit=2)
                    path = Path(parts[1]).expanduser()
                    try:
                        if not path.is_file():
                            renderer.print(f"  no such file: {path}")
                            continue
                        data = path.read_bytes()
                    except OSError as exc:
                        renderer.print(f"  cannot read {path}: {exc.strerror or exc}")
                        continue
                    file_id = request.add_file(data)
                    caption = parts[2] if len(parts) > 2 else None
                    update = factory.document(file_id, path.name, len(data), user_id, caption)
                elif line.isdecimal() and renderer.buttons and 1 <= int(line) <= len(renderer.buttons):
                    label, callback_data = renderer.buttons[int(line) - 1]
                    renderer.print(f"  (pressed “{label}”)")
                    update = factory.press(callback_data, user_id, _last_message(request, user_id))
                else:
                    update = factory.text(line, user_id)
                await application.process_update(update)
    finally:
        await application.bot_data["services"].close()
    return 0


def _last_message(request: OfflineRequest, chat_id: int) -> dict | None:
    for sent in reversed(request.calls):
        if sent.chat_id == chat_id and isinstance(sent.result, dict) and "message_id" in sent.result:
            return dict(sent.result)
    return None
