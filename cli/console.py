"""The offline console: the same Application and handlers, played in a terminal.

What the bot sends is shown readably (HTML as plain text, bold when the terminal can show it),
inline keyboards as numbered buttons that the user presses by typing the number, and files are
saved to a folder and named. Standard input that is not a terminal is read line by line, so a
session can be scripted: printf '/start\\n/find smith\\n1\\n' | partnerbot console --as 1001
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from core import clock
from core.offline import OfflineRequest, Sent, UpdateFactory
from core.settings import Settings

HELP = """Console commands (everything else is sent to the bot as a message):
  NUMBER            press button NUMBER of the last message with buttons
  :as ID            talk as another user (demo: 1001 member, 1002 lead, 1003 coordinator, 1004 admin, 9001 stranger);
                    the messages the bot sent them meanwhile are shown, and their buttons can be pressed
  :inbox            the messages of yours that still have buttons (numbered, to press), and who has messages waiting
  :app              a link that opens the office Mini App in a browser as you (served on 127.0.0.1)
  :later DAYS       move the clock on by DAYS days (to see check-ins and reminders fall due)
  :run JOB          run a scheduled job now: checkins, reminders, digest (or a job's full name)
  :file PATH [CAPTION]   send a file to the bot, as a user uploading a document
  # TEXT            a comment (scripts narrate with these); not sent
  :help             this help
  :quit             leave (Ctrl-D works too)"""


@dataclass
class Kept:
    """A message the bot sent to someone, as it stands now (edits replace it), and whether they saw it."""

    sent: Sent
    message: dict[str, Any]
    seen: bool = False


class Renderer:
    """Prints what the bot sends; remembers the last buttons shown to the current user, and keeps every
    message (with its buttons) sent to anyone, so that switching to them with `:as` shows what waits."""

    def __init__(self, out: TextIO, files_dir: Path, user_id: int, colour: bool):
        self.out = out
        self.files_dir = files_dir
        self.user_id = user_id
        self.colour = colour
        # The buttons that typing a number presses, each with the message it sits on.
        self.buttons: list[tuple[str, str, dict[str, Any] | None]] = []
        self.names: dict[int, str] = {}
        self.kept: dict[int, list[Kept]] = {}

    def readable(self, text: str) -> str:
        bold_on, bold_off = ("\033[1m", "\033[0m") if self.colour else ("", "")
        text = re.sub(r"<a href=\"([^\"]*)\">(.*?)</a>", r"\2 (\1)", text, flags=re.S)
        text = re.sub(r"</?(b|strong)>", lambda m: bold_off if m.group(0).startswith("</") else bold_on, text)
        text = re.sub(r"</?(i|em)>", "_", text)
        text = re.sub(r"<[^>]+>", "", text)
        return html.unescape(text)

    def keep(self, sent: Sent) -> Kept | None:
        """Keep a sent or edited message under its chat; an edit replaces the message it edits."""
        to = sent.chat_id
        if to is None or not isinstance(sent.result, dict) or "message_id" not in sent.result:
            return None
        messages = self.kept.setdefault(to, [])
        seen = to == self.user_id
        if sent.method == "editMessageText":
            for i, kept in enumerate(messages):
                if kept.message.get("message_id") == sent.result["message_id"]:
                    messages[i] = Kept(sent, dict(sent.result), seen or kept.seen)
                    return messages[i]
        kept = Kept(sent, dict(sent.result), seen)
        messages.append(kept)
        return kept

    def show(self, sent: Sent) -> None:
        if sent.method == "answerCallbackQuery":
            if sent.params.get("text"):
                self.print(f"  ⓘ {sent.params['text']}")
            return
        if sent.method not in {"sendMessage", "editMessageText", "sendDocument", "sendPhoto"}:
            return
        kept = self.keep(sent)
        to = sent.chat_id
        if to is not None and to != self.user_id:
            who = self.names.get(to, str(to))
            mark = f" [{len(sent.buttons)} buttons: :as {to} to press them]" if sent.buttons else ""
            self.print(f"  ↪ (to {who}) " + self.readable(sent.text).replace("\n", "\n    ") + mark)
            return
        if sent.buttons:  # a message without buttons leaves the last ones pressable
            self.buttons = []
        self.render(
            sent, kept.message if kept else None, "bot (edited)>" if sent.method == "editMessageText" else "bot>"
        )

    def render(self, sent: Sent, message: dict[str, Any] | None, prefix: str) -> None:
        """Print one message; its buttons are numbered after those already shown (self.buttons)."""
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
        for label, data in sent.buttons:
            self.buttons.append((label, data, message))
            self.print(f"     [{len(self.buttons)}] {label}")

    def switch(self, user_id: int) -> None:
        """Become another user and see what the bot sent them meanwhile (their buttons become pressable)."""
        self.user_id = user_id
        self.buttons = []
        waiting = [k for k in self.kept.get(user_id, []) if not k.seen]
        if waiting:
            self.print(f"  {len(waiting)} message{'s' if len(waiting) != 1 else ''} waiting:")
        for kept in waiting:
            kept.seen = True
            self.render(kept.sent, kept.message, "bot>")
        if not waiting:  # nothing new: the buttons of their last message with buttons stay pressable
            last = next((k for k in reversed(self.kept.get(user_id, [])) if k.sent.buttons), None)
            if last is not None:
                self.buttons = [(label, data, last.message) for label, data in last.sent.buttons]

    def inbox(self) -> None:
        """The current user's messages that still have buttons, and who else has messages waiting."""
        self.buttons = []
        live = [k for k in self.kept.get(self.user_id, []) if k.sent.buttons]
        if not live:
            self.print("  No messages with buttons for you.")
        for kept in live:
            kept.seen = True
            self.render(kept.sent, kept.message, "bot>")
        others = [
            (uid, sum(not k.seen for k in kept)) for uid, kept in sorted(self.kept.items()) if uid != self.user_id
        ]
        waiting = [f"{self.names.get(uid, str(uid))} ({n})" for uid, n in others if n]
        if waiting:
            self.print("  Waiting for others: " + ", ".join(waiting))

    def print(self, line: str) -> None:
        print(line, file=self.out, flush=True)


def run_console(
    settings: Settings,
    as_id: int | None,
    load_demo_data: bool = True,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    return asyncio.run(console_session(settings, as_id, load_demo_data, stdin or sys.stdin, stdout or sys.stdout))


async def console_session(
    settings: Settings, as_id: int | None, load_demo_data: bool, stdin: TextIO, stdout: TextIO
) -> int:
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

    shift = dt.timedelta(0)
    real_now = clock.source()
    office: Any = None
    try:  # the engine is closed however the session ends (Ctrl-C, an error)
        async with application:
            await start_services(application)
            from webapp.console import start_local

            office = await start_local(application)  # the Mini App, signed with the console's own key
            renderer.print(
                f"PartnerBot console, offline. You are {describe(user_id)}. Type :help for console commands."
            )
            if interactive:
                renderer.print(f"  The office Mini App, as you: {office.link(user_id)}")
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
                if line.startswith("#"):
                    continue  # a script's narration (printed above as it was read), not sent to the bot
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
                    renderer.print(f"  You are now {describe(user_id)}.")
                    renderer.switch(user_id)
                    continue
                if line == ":app":
                    renderer.print(f"  The office Mini App, as {user_id}: {office.link(user_id)}")
                    continue
                if line == ":inbox":
                    renderer.inbox()
                    continue
                if line.startswith(":later"):
                    days = line.split()[1] if len(line.split()) == 2 else ""
                    if not (days.isascii() and days.isdigit() and 0 < int(days) <= 3660):
                        renderer.print("  usage: :later DAYS")
                        continue
                    shift += dt.timedelta(days=int(days))
                    clock.set_clock(_shifted(real_now, shift))
                    renderer.print(f"  The clock is now {clock.now():%d/%m/%Y %H:%M} UTC.")
                    continue
                if line.startswith(":run"):
                    name = line.split(maxsplit=1)[1].strip() if len(line.split()) > 1 else ""
                    renderer.print(await run_job(application, JOB_NAMES.get(name, name)))
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
                    label, callback_data, message = renderer.buttons[int(line) - 1]
                    renderer.print(f"  (pressed “{label}”)")
                    update = factory.press(callback_data, user_id, message or _last_message(request, user_id))
                else:
                    update = factory.text(line, user_id)
                await application.process_update(update)
    finally:
        if shift:
            clock.set_clock(real_now)
        if office is not None:
            await office.stop()
        await application.bot_data["services"].close()
    return 0


def _shifted(base: Callable[[], dt.datetime], by: dt.timedelta) -> Callable[[], dt.datetime]:
    return lambda: base() + by


JOB_NAMES = {"checkins": "buddy-checkins", "reminders": "plan-reminders", "digest": "desk-digest"}


async def run_job(application: Any, name: str) -> str:
    """Run one scheduled job now, as its schedule would."""
    queue = application.job_queue
    jobs = queue.get_jobs_by_name(name) if queue is not None and name else ()
    if not jobs:
        known = ", ".join(sorted(JOB_NAMES))
        return f"  no job called {name or '…'} (try {known})"
    await jobs[0].run(application)
    return f"  (ran {name})"


def _last_message(request: OfflineRequest, chat_id: int) -> dict | None:
    for sent in reversed(request.calls):
        if sent.chat_id == chat_id and isinstance(sent.result, dict) and "message_id" in sent.result:
            return dict(sent.result)
    return None
