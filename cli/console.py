"""The offline console: the same Application and handlers, played in a terminal.

What the bot sends is shown readably (HTML as plain text, bold when the terminal can show it),
inline keyboards as numbered buttons that the user presses by typing the number, and files are
saved to a folder and named. Standard input that is not a terminal is read line by line, so a
session can be scripted: printf '/start\\n/find smith\\n1\\n' | partnerbot console --as 1001

It shows everything Telegram would: contacts the bot sends (📇 Share contact), keyboards it changes under a
message (the import preview's "Columns…", "Header row…", "Term of ratings…"), and messages sent to other
users, which wait for them (`:as ID`) and are kept across console runs in the console's own state file
beside its database (`partnerbot.db` -> `partnerbot.db.console.json`), so a check-in sent today can be
answered in tomorrow's session.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import json
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
        """Keep a sent or edited message under its chat; an edit replaces the message it edits (a new
        keyboard under the same text: the text kept, the buttons new)."""
        to = sent.chat_id
        if to is None or not isinstance(sent.result, dict) or "message_id" not in sent.result:
            return None
        messages = self.kept.setdefault(to, [])
        seen = to == self.user_id
        if sent.method == "editMessageReplyMarkup":
            for i, kept in enumerate(messages):
                if kept.message.get("message_id") == sent.result["message_id"]:
                    params = {k: v for k, v in kept.sent.params.items() if k != "reply_markup"}
                    if sent.params.get("reply_markup"):
                        params["reply_markup"] = sent.params["reply_markup"]
                    message = {k: v for k, v in kept.message.items() if k != "reply_markup"}
                    if "reply_markup" in sent.result:
                        message["reply_markup"] = sent.result["reply_markup"]
                    merged = Sent(kept.sent.method, params, kept.sent.files, message)
                    messages[i] = Kept(merged, message, seen or kept.seen)
                    return messages[i]
            return None
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
        if sent.method not in {
            "sendMessage",
            "editMessageText",
            "editMessageReplyMarkup",
            "sendDocument",
            "sendPhoto",
            "sendContact",
        }:
            return
        kept = self.keep(sent)
        if sent.method == "editMessageReplyMarkup":
            if kept is None or kept.sent.chat_id != self.user_id:
                return  # an old message's keyboard taken away, or someone else's
            sent = kept.sent
            if sent.buttons:
                self.buttons = []
            self.render(sent, kept.message, "bot (buttons changed)>", text=False)
            if not sent.buttons:
                self.print("     (its buttons were taken away)")
            return
        to = sent.chat_id
        if to is not None and to != self.user_id:
            who = self.names.get(to, str(to))
            mark = f" [{len(sent.buttons)} buttons: :as {to} to press them]" if sent.buttons else ""
            shown = self.contact(sent) if sent.method == "sendContact" else self.readable(sent.text)
            self.print(f"  ↪ (to {who}) " + shown.replace("\n", "\n    ") + mark)
            return
        if sent.buttons:  # a message without buttons leaves the last ones pressable
            self.buttons = []
        self.render(
            sent, kept.message if kept else None, "bot (edited)>" if sent.method == "editMessageText" else "bot>"
        )

    def contact(self, sent: Sent) -> str:
        """A contact card as the chat shows it: name, phone, and the vCard's email and role."""
        params = sent.params
        name = " ".join(str(params.get(k) or "") for k in ("first_name", "last_name")).strip()
        lines = [f"📇 {name}: {params.get('phone_number', '')}"]
        for line in str(params.get("vcard") or "").splitlines():
            key, _sep, value = line.partition(":")
            if key.split(";")[0].upper() in {"EMAIL", "ORG", "TITLE"} and value:
                lines.append(f"   {value.replace(';', ', ').strip(', ')}")
        return "\n".join(lines)

    def render(self, sent: Sent, message: dict[str, Any] | None, prefix: str, text: bool = True) -> None:
        """Print one message; its buttons are numbered after those already shown (self.buttons)."""
        if sent.method == "sendContact":
            self.print(f"{prefix} " + self.contact(sent).replace("\n", "\n     "))
        for key in ("document", "photo"):
            if key in sent.files:
                filename, content = sent.files[key]
                self.files_dir.mkdir(parents=True, exist_ok=True)
                path = self.files_dir / Path(filename).name
                path.write_bytes(content)
                self.print(f"{prefix} 📎 {path.name} ({len(content):,} bytes) saved to {path}")
                prefix = "    "
        if sent.text and text:
            self.print(f"{prefix} " + self.readable(sent.text).replace("\n", "\n     "))
        elif sent.text:
            self.print(f"{prefix} (under: {self.readable(sent.text).splitlines()[0][:60]}…)")
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

    # --- kept across runs -------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What waits for whom, as JSON (files are kept by name only: they were saved when shown)."""
        chats = {
            str(uid): [
                {
                    "method": k.sent.method,
                    "params": k.sent.params,
                    "files": sorted(name for name, _c in k.sent.files.values()),
                    "message": k.message,
                    "seen": k.seen,
                }
                for k in kept
            ]
            for uid, kept in self.kept.items()
        }
        ids = [int(k.message.get("message_id", 0)) for kept in self.kept.values() for k in kept]
        return {"version": 1, "last_message_id": max(ids, default=0), "chats": chats}

    def restore(self, state: dict[str, Any]) -> int:
        """Take back the messages of an earlier run; the last message id (new ones are numbered after it)."""
        for uid, items in (state.get("chats") or {}).items():
            kept = []
            for item in items:
                sent = Sent(str(item["method"]), dict(item["params"]), {}, dict(item["message"]))
                kept.append(Kept(sent, dict(item["message"]), bool(item.get("seen"))))
            self.kept[int(uid)] = kept
        return int(state.get("last_message_id") or 0)


KEEP_PER_CHAT = 200  # the latest messages kept per user across runs


def state_path(settings: Settings) -> Path:
    """The console's own state, beside its database (a SQLite file), else in its files folder."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        return database.with_name(database.name + ".console.json")
    return Path(settings.console_files_dir) / "console-state.json"


def uploads_dir(path: Path) -> Path:
    """Files sent to the bot with `:file`, kept beside the state: a preview's corrections read them again."""
    return path.with_name(path.name.removesuffix(".json") + "-uploads")


def upload(path: Path, request: OfflineRequest, data: bytes) -> str:
    """A file the console user sends: named by its content, so a later run finds it under the same id."""
    import hashlib

    file_id = "console-" + hashlib.sha256(data).hexdigest()[:32]
    request.files[file_id] = data
    with contextlib.suppress(OSError):
        folder = uploads_dir(path)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / file_id).write_bytes(data)
    return file_id


def load_state(path: Path, renderer: Renderer, request: OfflineRequest) -> None:
    with contextlib.suppress(OSError):
        for file in uploads_dir(path).glob("console-*"):
            request.files[file.name] = file.read_bytes()
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        request.continue_after(renderer.restore(state))
    except FileNotFoundError:
        return
    except (OSError, ValueError, KeyError, TypeError) as exc:
        renderer.kept = {}
        renderer.print(f"  (the console's saved messages in {path} could not be read: {exc}; starting afresh)")


def save_state(path: Path, renderer: Renderer) -> None:
    for uid in renderer.kept:
        renderer.kept[uid] = renderer.kept[uid][-KEEP_PER_CHAT:]
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(renderer.state(), ensure_ascii=False, default=str), encoding="utf-8")
        temporary.replace(path)


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
    saved = state_path(settings)
    load_state(saved, renderer, request)
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
            renderer.switch(user_id)  # what waited for them since the last run
            others = [
                describe(uid)
                for uid, kept in sorted(renderer.kept.items())
                if uid != user_id and any(not k.seen for k in kept)
            ]
            if others:
                renderer.print("  Messages waiting for: " + ", ".join(others))
            loop = asyncio.get_running_loop()
            while True:
                if interactive:
                    try:
                        line = await loop.run_in_executor(None, input, "you> ")
                    except EOFError:
                        break
                else:
                    # Read in a thread as above, so the loop keeps serving the Mini App (`:app`) between lines.
                    line = await loop.run_in_executor(None, stdin.readline)
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
                    file_id = upload(saved, request, data)
                    caption = parts[2] if len(parts) > 2 else None
                    update = factory.document(file_id, path.name, len(data), user_id, caption)
                elif line.isdecimal() and renderer.buttons and 1 <= int(line) <= len(renderer.buttons):
                    label, callback_data, message = renderer.buttons[int(line) - 1]
                    renderer.print(f"  (pressed “{label}”)")
                    update = factory.press(callback_data, user_id, message or _last_message(request, user_id))
                else:
                    update = factory.text(line, user_id)
                await application.process_update(update)
                save_state(saved, renderer)
    finally:
        save_state(saved, renderer)
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
