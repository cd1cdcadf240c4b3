"""Sending replies: HTML parse mode, split over 4096 characters, keyboards from (label, data) pairs."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from core.i18n import _
from core.text import clean_text, split_html, t

Rows = Sequence[Sequence[tuple[str, str]]]
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


# Telegram's limits on inline keyboards (telegram.constants has the same numbers; named here for why).
MAX_BUTTONS = 100  # per keyboard
MAX_PER_ROW = 8
MAX_DATA_BYTES = 64  # callback data
MAX_LABEL = 64  # characters we allow on a button (Telegram cuts long labels in the middle of the screen)


def _label(label: str) -> str:
    label = " ".join(clean_text(label).split())
    if len(label) > MAX_LABEL:
        label = label[: MAX_LABEL - 1].rstrip() + "…"
    return label or "…"  # Telegram refuses a button without text


def keyboard(rows: Rows) -> InlineKeyboardMarkup:
    """Inline keyboard from rows of (label, callback_data), within Telegram's limits: a row over 8 buttons
    wraps, labels are cut to fit and never empty; callback data over 64 bytes or more than 100 buttons is a
    programming error (page them with `paged_rows`) and raises ValueError."""
    buttons = []
    count = 0
    for row in rows:
        line = []
        for label, data in row:
            if not data or len(data.encode()) > MAX_DATA_BYTES:
                raise ValueError(f"callback data must be 1 to {MAX_DATA_BYTES} bytes: {data!r}")
            line.append(InlineKeyboardButton(_label(label), callback_data=data))
        count += len(line)
        buttons += [line[i : i + MAX_PER_ROW] for i in range(0, len(line), MAX_PER_ROW)]
    if count > MAX_BUTTONS:
        raise ValueError(f"{count} buttons: Telegram allows {MAX_BUTTONS} per keyboard; page them")
    return InlineKeyboardMarkup(buttons)


def paged_rows(
    items: Sequence[tuple[str, str]], page: int, per_page: int, nav_prefix: str, per_row: int = 1
) -> list[list[tuple[str, str]]]:
    """One page of (label, data) buttons plus ‹ Prev / Next › buttons whose data is `nav_prefix:N`.
    A page never holds more buttons than one keyboard may (with its navigation row)."""
    per_page = max(1, min(per_page, MAX_BUTTONS - 2))
    pages = max(1, (len(items) + per_page - 1) // per_page)
    page = min(max(page, 0), pages - 1)
    chunk = list(items[page * per_page : (page + 1) * per_page])
    rows = [chunk[i : i + per_row] for i in range(0, len(chunk), per_row)]
    nav = []
    if page > 0:
        nav.append((_("‹ Previous"), f"{nav_prefix}:{page - 1}"))
    if page < pages - 1:
        nav.append((_("Next ›"), f"{nav_prefix}:{page + 1}"))
    if nav:
        rows.append(nav)
    return rows


CAPTION_LIMIT = 1024


def caption(text: str) -> str:
    """A document's or photo's caption within Telegram's 1024 characters (cut at a safe place, valid HTML)."""
    parts = split_html(text, CAPTION_LIMIT)
    return parts[0] if parts else ""


async def send(bot: object, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None) -> list[Message]:
    """Send HTML to a chat, split into valid parts; the keyboard goes on the last part."""
    parts = split_html(text)
    sent = []
    for i, part in enumerate(parts):
        sent.append(
            await bot.send_message(  # type: ignore[attr-defined]
                chat_id,
                part,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=markup if i == len(parts) - 1 else None,
            )
        )
    return sent


async def reply(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> list[Message]:
    chat = update.effective_chat
    if chat is None:
        return []
    return await send(context.bot, chat.id, text, keyboard)


def is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is None or chat.type == ChatType.PRIVATE


async def not_in_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True (after saying so) in a group chat: contact details are only sent in private chats."""
    if is_private(update):
        return False
    await reply(update, context, t("To keep contact details private, please ask me in a private chat."))
    return True


async def answer(update: Update, text: str | None = None, alert: bool = False) -> None:
    """Answer a button press (stops the client's spinner); safe to call for non-callback updates."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text[:200] if text else None, show_alert=alert)
    except BadRequest:
        pass  # the query is too old to answer; nothing to do


async def edit(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the message a button sits on; a new message when there is no button (a typed answer) or
    the old one cannot be edited. Conversation steps reached both ways just call this."""
    query = update.callback_query
    parts = split_html(text)
    if query is not None and query.message is not None and len(parts) == 1:
        try:
            await query.edit_message_text(
                parts[0], parse_mode=ParseMode.HTML, reply_markup=keyboard, link_preview_options=NO_PREVIEW
            )
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
    await reply(update, context, text, keyboard)
