"""The Mini App's page and JSON API, as tornado routes in the bot's one web server (cli/serve.py).

Tornado, not Starlette on uvicorn: python-telegram-bot[webhooks] already installs it and the webhook and
/healthz already run on it, so the Mini App adds no web framework and no second server.

Every API call: the init data checked (webapp/auth.py: 401 when missing, forged or expired), then the account
read from the database (`Services.member`: the same load as the chat's access gate, so a revoked or
deactivated account is a stranger at its next call) and its role compared with the role the chat's own
manifest declares for the same work (403 below it). Responses carry `Cache-Control: no-store`; the page a
strict Content-Security-Policy (our own files and Telegram's telegram-web-app.js only). Log lines name the
route and the outcome, never the init data, a name or a body.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import tornado.web
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import N_, _, current_locale
from core.services import MemberInfo, Services
from storage.members import Role
from webapp import board, desk, review
from webapp.auth import AuthError, from_header, verify

log = logging.getLogger("partnerbot.webapp")

STATIC = Path(__file__).parent / "static"
TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"
CSP = (
    "default-src 'none'; script-src 'self' https://telegram.org; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors https://web.telegram.org"
)
MAX_BODY = 64 * 1024


def _role_of(module: Any, name: str) -> Role:
    """The role the chat's manifest declares for a command or an upload: the Mini App asks the same."""
    manifest = module.MANIFEST
    for command in manifest.commands:
        if command.name == name:
            return Role(command.role)
    for button in manifest.buttons:
        if button.prefix == name:
            return Role(button.role)
    for conversation in getattr(manifest, "conversations", ()):
        for step in conversation.entry:
            if getattr(step, "name", None) == name:
                return Role(step.role)
    raise LookupError(name)


def roles() -> dict[str, Role]:
    """What each part of the Mini App needs, read from the chat's manifests (one table, not a copy)."""
    from handlers import access, buddy, currency, plan_upload, plan_view, progress_chat, reminders_chat, support
    from handlers import desk as desk_chat

    return {
        "board": _role_of(plan_view, "plan"),
        "update": _role_of(progress_chat, "update"),
        "desk": _role_of(desk_chat, "desk"),
        "review": _role_of(plan_upload, "pi"),  # the preview's Import button
        "registrations": _role_of(currency, "ecd"),  # a registration's Confirm / Reject
        # the desk's actions: the role of the chat's button that does the same (handlers/authority.py's table)
        "buddy": _role_of(buddy, "bc"),
        "buddy-ask": _role_of(buddy, "ba"),
        "ask-again": _role_of(desk_chat, "dkr"),
        "end-pairing": _role_of(desk_chat, "dkey"),
        "checkins": _role_of(desk_chat, "dk"),
        "chase": _role_of(reminders_chat, "chr"),
        "stale": _role_of(desk_chat, "dks"),
        "link": _role_of(access, "lk"),
        "unlink": _role_of(access, "ul"),
        "support-confirm": _role_of(support, "uc"),
        "support-in-turn": _role_of(support, "ut"),
        "support-decline": _role_of(support, "ux"),
    }


# The desk's write routes and the chat's button each mirrors ("feature prefix:", as handlers/authority.py names
# its rows): the route needs what that row of the authority table needs, role and relation, checked with the
# table's own `allowed` on every call.
WRITES = {
    "registrations": "currency ecd:",
    "buddy": "buddy bc:",
    "buddy-ask": "buddy ba:",
    "ask-again": "desk dkr:",
    "end-pairing": "desk dkey:",
    "checkins": "desk dk:",
    "chase": "reminders chr:",
    "stale": "desk dks:",
    "link": "access lk:",
    "unlink": "access ul:",
    "support-confirm": "support uc:",
    "support-in-turn": "support ut:",
    "support-decline": "support ux:",
}


@functools.lru_cache(maxsize=1)
def authority_rows() -> dict[str, Any]:
    from handlers import fold_features
    from handlers.authority import authority_table

    return {row.ident: row for row in authority_table(fold_features())}


def may(member: MemberInfo, need: str) -> bool:
    """The chat's rule for the work a route does: the manifest's role, and the authority row's relation (an
    office route's rows need no relation; were one to need the actor's own entry, an office call would fail)."""
    from handlers.authority import allowed

    if member.role < roles()[need]:
        return False
    ident = WRITES.get(need)
    if ident is None:
        return True  # reads: the role is all
    row = authority_rows()[ident]  # a route without its row refuses (KeyError, below)
    return allowed(row, member.role, linked=member.person_id is not None, owner=False)


class _Base(tornado.web.RequestHandler):
    def initialize(self, **kwargs: Any) -> None:
        self.opts: dict[str, Any] = kwargs

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.clear_header("Server")

    def log_exception(self, *args: Any) -> None:  # no traceback with a request in it
        log.warning("webapp: error in %s", type(self).__name__)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish({"error": _("Sorry, something went wrong. Nothing was changed.")})


class PageHandler(_Base):
    """The page itself: the same HTML for everyone (it holds no data), with the strict CSP."""

    def get(self) -> None:
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        html = (STATIC / "index.html").read_text(encoding="utf-8")
        self.finish(html.replace("{{TELEGRAM_SCRIPT}}", self.opts["telegram_script"]))


class SlashHandler(_Base):
    """/app → /app/ (the page's own files are relative to it), the query kept (`?view=review`)."""

    def get(self) -> None:
        query = self.request.query
        self.redirect("/app/" + (f"?{query}" if query else ""))


class StaticHandler(tornado.web.StaticFileHandler):
    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")


Work = Callable[[AsyncSession, MemberInfo, "ApiHandler"], Awaitable[Any]]


# The notices still going out after answered calls (each call's `after`, run once its answer is sent).
_notices: set[asyncio.Future[None]] = set()


async def settled() -> None:
    """Wait until every notice of the calls answered so far has gone (a test's check; a clean shutdown)."""
    while _notices:
        await asyncio.gather(*list(_notices), return_exceptions=True)


class ApiHandler(_Base):
    """One JSON route: the check, then `work` in one session (a transaction, committed before the answer)."""

    def initialize(self, **kwargs: Any) -> None:
        self.opts = kwargs
        self.ids: list[int] = []
        self.services: Services = kwargs["services"]
        self.token: str = kwargs["token"]
        self.need: str = kwargs["need"]
        self.work: Work = kwargs["work"]
        self.write_method: bool = kwargs.get("write", False)
        # What to do once the work is committed (tell people, edit messages): never before.
        self.after: list[Callable[[], Awaitable[None]]] = []

    def body(self) -> dict[str, Any]:
        if len(self.request.body) > MAX_BODY:
            raise board.BoardError(413, _("That is too much at once. Nothing was changed."))
        try:
            value = json.loads(self.request.body or b"{}")
        except ValueError:
            raise board.BoardError(400, _("That could not be done. Nothing was changed.")) from None
        if not isinstance(value, dict):
            raise board.BoardError(400, _("That could not be done. Nothing was changed."))
        return value

    async def _run(self, *args: str) -> None:
        self.ids = [int(a) for a in args if a]
        route = self.opts["name"]
        try:
            caller = verify(
                from_header(self.request.headers.get("Authorization")),
                self.token,
                self.services.settings.webapp_auth_max_age,
            )
        except AuthError as exc:
            log.info("webapp: %s refused (401, %s)", route, exc.reason)
            self.set_status(401)
            self.finish({"error": _("Please open this page from the bot in Telegram.")})
            return
        try:
            member = await self.services.member(caller.telegram_id)  # the database, on every call
            allowed = member is not None and may(member, self.need)
        except Exception:  # noqa: BLE001 - any doubt refuses
            log.exception("webapp: access check failed")
            member, allowed = None, False
        if not allowed or member is None:
            log.info("webapp: %s refused (403)", route)
            self.set_status(403)
            self.finish({"error": _("Sorry, this is not available to you.")})
            return
        current_locale.set(member.locale or None)
        try:
            async with self.services.session() as session:
                result = await self.work(session, member, self)
        except board.BoardError as exc:
            log.info("webapp: %s refused (%s)", route, exc.status)
            message = exc.message
            if isinstance(exc, desk.Lost):  # who decided, read once the losing transaction has ended
                try:
                    async with self.services.sessionmaker() as session:
                        message = await exc.explain(session)
                except Exception:  # noqa: BLE001 - the refusal stands with its plain sentence
                    log.warning("webapp: could not say who decided", exc_info=True)
            self.set_status(exc.status)
            self.finish({"error": message})
            return
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(result))
        notices = asyncio.ensure_future(self._notices(route))
        _notices.add(notices)
        notices.add_done_callback(_notices.discard)
        await notices

    async def _notices(self, route: str) -> None:
        for then in self.after:
            try:
                await then()
            except Exception:  # noqa: BLE001 - courtesies after a committed decision: it stands
                log.warning("webapp: a notice after %s failed", route, exc_info=True)

    async def get(self, *args: str) -> None:
        if self.write_method:
            self.set_status(405)
            self.finish({"error": "POST"})
            return
        await self._run(*args)

    async def post(self, *args: str) -> None:
        if not self.write_method:
            self.set_status(405)
            self.finish({"error": "GET"})
            return
        await self._run(*args)


# Every word the page shows, translated here (the page has no catalog of its own). {…} are filled in by the page.
STRINGS = {
    "title": N_("Partnership office"),
    "board": N_("Plan board"),
    "desk": N_("Desk"),
    "loading": N_("Loading…"),
    "failed": N_("Sorry, something went wrong. Nothing was changed."),
    "offline": N_("The bot cannot be reached. Please try again."),
    "no_plans": N_("There is no action plan yet."),
    "plan": N_("Plan"),
    "this_term": N_("This term: {term}. Tap a reference for its history and to post an update."),
    "filters": N_("Filters"),
    "mine": N_("Mine"),
    "red_amber": N_("Red or amber"),
    "stale": N_("Not updated this term"),
    "all_sections": N_("All sections"),
    "all_owners": N_("All owners"),
    "ref": N_("Ref"),
    "action": N_("Action"),
    "owners": N_("Owners"),
    "latest": N_("Latest comment"),
    "not_rated": N_("not rated"),
    "none_match": N_("No action matches these filters."),
    "open_action": N_("Action {ref}: history and update"),
    "history": N_("History"),
    "no_history": N_("No updates yet."),
    "kind_correction": N_("correction"),
    "kind_withdrawal": N_("withdrawn"),
    "kind_import": N_("from the imported plan"),
    "correct": N_("Correct"),
    "withdraw": N_("Withdraw"),
    "post_title": N_("Post an update"),
    "correct_title": N_("Correct your update"),
    "rating": N_("Rating for {term}"),
    "no_rating": N_("No rating"),
    "comment": N_("Comment"),
    "save_update": N_("Save update"),
    "save_correction": N_("Save correction"),
    "window": N_("You can correct or withdraw an update for 48 hours."),
    "saved": N_("Saved for {term}. The chat shows it too."),
    "corrected": N_("Corrected."),
    "withdrawn": N_("Withdrawn: it stays in the history, marked withdrawn."),
    "close": N_("Close"),
    "requests": N_("Access requests"),
    "nobody_waiting": N_("Nobody is waiting for access."),
    "on_telegram": N_("on Telegram: {name}"),
    "asked": N_("asked {when}"),
    "in_directory": N_("In the directory: {name}"),
    "approve_link": N_("Approve and link"),
    "approve": N_("Approve"),
    "reject": N_("Reject"),
    "approved": N_("Approved: {name}."),
    "rejected": N_("Rejected: {name}."),
    "registrations": N_("New-head registrations to confirm"),
    "no_registrations": N_("No registration is waiting."),
    "registered_by": N_("Registered by {who} on {when}"),
    "confirm": N_("Confirm"),
    "confirmed": N_("Confirmed: the appointment is registered."),
    "rejected_registration": N_("Rejected: nothing was changed."),
    "link_in_chat": N_("To link the registrant's account to this entry, use Accounts without a directory link below."),
    "changed_reloaded": N_("This request has changed: see the new one."),
    "accounts": N_("Accounts without a directory link"),
    "every_linked": N_("Every account is linked."),
    "new_heads_title": N_("New heads without a buddy"),
    "no_new_heads": N_("Every new head has a buddy or has one asked."),
    "starts": N_("{school}, starts {date}"),
    "pairings_title": N_("Buddy pairings"),
    "no_pairings": N_("No pairings yet."),
    "not_updated_title": N_("Not updated this term ({term})"),
    "everyone_updated": N_("Everyone has updated."),
    "checkins_title": N_("Check-in answers"),
    "no_answers": N_("No new answers."),
    "mark_seen": N_("Mark as seen"),
    "seen": N_("Marked as seen."),
    "answer_line": N_("{who} about {other} ({when}): {answer}"),
    "suggested": N_("Suggested buddies"),
    "confirm_buddy": N_("Confirm {name}"),
    "let_bot_ask": N_("Let the bot ask"),
    "no_buddy_free": N_("No suitable buddy is free in the directory at present."),
    "ask_again": N_("Ask {name} again"),
    "end_pairing": N_("End: {head} and {buddy}"),
    "end_question": N_("End the pairing of {head} and {buddy}? They will both be told."),
    "yes_end": N_("Yes, end it"),
    "ended": N_("Ended: {head} and {buddy}."),
    "cancel": N_("Cancel"),
    "first_100": N_("(first 100 days end {date})"),
    "send_reminders": N_("Send reminders"),
    "link_to": N_("Link to {person}"),
    "replace_link": N_("Replace: link to {person}"),
    "linked_elsewhere": N_("Already linked to another account: {account}"),
    "replace_question": N_("Replace? The other account keeps its access, unlinked."),
    "yes_replace": N_("Yes, replace"),
    "no_suggestion_link": N_("No directory entry resembles this name: use /link in the chat."),
    "latest_links": N_("Latest links"),
    "linked_since": N_("linked to {person} since {date}"),
    "unlink": N_("Unlink"),
    "unlink_question": N_("End the link of {name} to {person}? Its access stays."),
    "yes_unlink": N_("Yes, unlink"),
    "stale_title": N_("Entries not confirmed this term"),
    "no_stale": N_("Every entry asked this term has been confirmed."),
    "ask_to_confirm": N_("Ask again"),
    "nobody_to_ask": N_("no account linked: nobody to ask"),
    "support_title": N_("Support requests waiting"),
    "no_support": N_("None."),
    "suggested_leaders": N_("Suggested system leaders"),
    "in_turn": N_("Let the bot ask in turn"),
    "no_leader": N_("No system leader with days left and no conflict of interest is in the directory for this."),
    "decline_request": N_("Decline the request"),
    "decline_question": N_("Decline request {n}? The school will be told the office cannot arrange support this time."),
    "yes_decline": N_("Yes, decline"),
    "review": N_("Import review"),
    "review_intro": N_(
        "The file as I read it. Change a column's field, a rating column's term, a row's reading or the rating key: "
        "I read it again at once. "
        "Nothing is saved until Import."
    ),
    "columns": N_("Columns"),
    "column": N_("Column"),
    "field": N_("Field"),
    "term": N_("Term"),
    "guessed": N_("guessed"),
    "actions_read": N_("Actions as read"),
    "not_read": N_("Not read"),
    "nothing_left_out": N_("Everything in the file was read."),
    "preview": N_("What Import will do"),
    "import": N_("Import"),
    "update_plan": N_("Update plan {n}"),
    "imported": N_("Imported plan {n}: {title}. The board shows it."),
    "table": N_("Table {n}"),
    "no_term": N_("(term from the file)"),
    "rating_key": N_("Ratings read as: {key}"),
    "warnings": N_("Warnings"),
    "header_row": N_("Header row"),
    "header_as_read": N_("{lines} (as read)"),
    "header_hint": N_("If the columns below look wrong, the header may be on another line: choose it."),
}


async def _me(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    need = roles()
    return {
        "strings": {key: _(text) for key, text in STRINGS.items()},
        "lang": (member.locale or h.services.settings.default_locale).split("_")[0],
        "name": member.display_name,
        "board": member.role >= need["board"],
        "desk": member.role >= need["desk"],
        "review": member.role >= need["review"],
        "plans": await board.plans(session),
    }


async def _board(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    return await board.board(session, member, h.ids[0])


async def _history(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    return await board.history(session, member, h.ids[0])


async def _post(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    return await board.post(session, member, h.body())


async def _desk(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    return await desk.queues(session, member, h.services)


async def _desk_decide(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    result = await desk.decide(session, member, h.body(), h.services)
    h.after.append(lambda: desk.after_decision(h.opts["bot_app"], h.services, result, member))
    return result


async def _desk_registration(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    result = await desk.decide_registration(session, member, h.body(), h.services)
    h.after.append(lambda: desk.after_registration(h.opts["bot_app"], result))
    return result


async def _desk_buddy(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    body = h.body()
    if body.get("person") is None:
        raise board.BoardError(400, _("That could not be done. Nothing was changed."))
    result = await desk.confirm_buddy(session, member, body, h.services)
    h.after.append(lambda: desk.after_buddy(h.opts["bot_app"], result))
    return result


async def _desk_buddy_ask(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    body = {**h.body(), "person": None}  # "Let the bot ask": the best suggestion, as the chat's ba:
    result = await desk.confirm_buddy(session, member, body, h.services)
    h.after.append(lambda: desk.after_buddy(h.opts["bot_app"], result))
    return result


async def _desk_ask_again(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    result = await desk.ask_again(session, member, h.body(), h.services)
    h.after.append(lambda: desk.after_ask_again(h.opts["bot_app"], result, member.telegram_id))
    return result


async def _desk_end(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    result = await desk.end_pairing(session, member, h.body(), h.services)
    h.after.append(lambda: desk.after_end(h.opts["bot_app"], result))
    return {"match": result["match"], "head": result["head"], "buddy": result["buddy"]}


async def _desk_seen(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    return await desk.checkins_seen(session, member, h.body(), h.services)


async def _desk_chase(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    result = await desk.chase(session, member, h.body(), h.services)
    due = result.pop("due")
    h.after.append(lambda: desk.after_chase(h.opts["bot_app"], h.services, {"due": due}, member.telegram_id))
    return result


async def _desk_stale(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    result = await desk.ask_to_confirm(session, member, h.body(), h.services)
    send = {"telegram_id": result.pop("telegram_id"), "card": result.pop("card"), "person": result["person"]}
    h.after.append(lambda: desk.after_confirm_ask(h.opts["bot_app"], send))
    return result


async def _desk_link(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    result = await desk.link(session, member, h.body(), h.services)
    h.after.append(h.services.refresh_directory)  # as the chat's link button: cards show the link
    return result


async def _desk_unlink(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    return await desk.unlink(session, member, h.body(), h.services)


async def _desk_support_confirm(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    body = h.body()
    if body.get("person") is None:
        raise board.BoardError(400, _("That could not be done. Nothing was changed."))
    result = await desk.support_broker(session, member, body, h.services)
    h.after.append(lambda: desk.after_support_broker(h.opts["bot_app"], result))
    return result


async def _desk_support_in_turn(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    result = await desk.support_broker(session, member, {**h.body(), "person": None}, h.services)
    h.after.append(lambda: desk.after_support_broker(h.opts["bot_app"], result))
    return result


async def _desk_support_decline(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    result = await desk.support_decline(session, member, h.body(), h.services)
    targets = result.pop("targets")
    h.after.append(lambda: desk.after_support_decline(h.opts["bot_app"], result["request"], targets))
    return result


async def _review(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    return await review.show(h.opts["bot_app"], h.services, member)


async def _review_read(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    result = await review.reread(h.opts["bot_app"], h.services, member, h.body())
    h.after.append(h.opts["bot_app"].update_persistence)  # the chat's pending upload has the corrections too
    return result


async def _review_import(session: AsyncSession, member: MemberInfo, h: ApiHandler) -> Any:
    result = await review.do_import(session, h.opts["bot_app"], h.services, member, h.body())
    h.after.append(h.opts["bot_app"].update_persistence)
    return result


ID = r"([0-9]{1,18})"


def routes(application: Any, services: Services, telegram_script: str = TELEGRAM_SCRIPT) -> list[Any]:
    """The Mini App's routes for the bot's web server. `application` is the running python-telegram-bot
    Application: its bot's token checks the init data (the console's offline token in the console)."""
    token = application.bot.token
    common = {"services": services, "token": token, "bot_app": application}

    def api(path: str, name: str, need: str, work: Work, write: bool = False) -> Any:
        return (path, ApiHandler, {**common, "name": name, "need": need, "work": work, "write": write})

    return [
        (r"/app", SlashHandler),
        (r"/app/", PageHandler, {"telegram_script": telegram_script}),
        (r"/app/static/(.*)", StaticHandler, {"path": str(STATIC)}),
        api(r"/app/api/me", "me", "board", _me),
        api(rf"/app/api/board/{ID}", "board", "board", _board),
        api(rf"/app/api/action/{ID}", "history", "board", _history),
        api(r"/app/api/update", "update", "update", _post, write=True),
        api(r"/app/api/desk", "desk", "desk", _desk),
        api(r"/app/api/review", "review", "review", _review),
        api(r"/app/api/review/read", "review-read", "review", _review_read, write=True),
        api(r"/app/api/review/import", "review-import", "review", _review_import, write=True),
        api(r"/app/api/desk/decide", "desk-decide", "desk", _desk_decide, write=True),
        api(r"/app/api/desk/registration", "desk-registration", "registrations", _desk_registration, write=True),
        api(r"/app/api/desk/buddy", "desk-buddy", "buddy", _desk_buddy, write=True),
        api(r"/app/api/desk/buddy-ask", "desk-buddy-ask", "buddy-ask", _desk_buddy_ask, write=True),
        api(r"/app/api/desk/ask-again", "desk-ask-again", "ask-again", _desk_ask_again, write=True),
        api(r"/app/api/desk/end", "desk-end", "end-pairing", _desk_end, write=True),
        api(r"/app/api/desk/seen", "desk-seen", "checkins", _desk_seen, write=True),
        api(r"/app/api/desk/chase", "desk-chase", "chase", _desk_chase, write=True),
        api(r"/app/api/desk/stale", "desk-stale", "stale", _desk_stale, write=True),
        api(r"/app/api/desk/link", "desk-link", "link", _desk_link, write=True),
        api(r"/app/api/desk/unlink", "desk-unlink", "unlink", _desk_unlink, write=True),
        api(r"/app/api/desk/support", "desk-support", "support-confirm", _desk_support_confirm, write=True),
        api(r"/app/api/desk/support-in-turn", "desk-support-in-turn", "support-in-turn", _desk_support_in_turn, True),
        api(r"/app/api/desk/support-decline", "desk-support-decline", "support-decline", _desk_support_decline, True),
    ]
