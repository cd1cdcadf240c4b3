"""The authority table: for every handler that writes and every button that decides, which role and which
relation to the target may do it, generated from the features' manifests (`writes=Writes(...)` on a Command,
Button or TextStep, handlers/manifest.py). docs/ARCHITECTURE.md holds the rendered table (a test keeps it
current) and tests/test_authority.py walks it with every kind of actor."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.manifest import Button, Command, Features, Manifest, TextStep, Writes
from storage.members import Role

RELATIONS = ("none", "self", "linked", "owner", "owner or office", "linked or office")

# Entries that change no data (they show, or keep a step of a flow in the chat's own state), as
# "feature key" (Row.ident). Every Command, Button and TextStep is either here or declares `writes=`:
# tests/test_authority.py fails on one that is neither, so a new handler's author must decide. Kept
# here rather than on each declaration so that it merges with others' changes to those lines.
READ_ONLY = frozenset(
    {
        "access /start",
        "access /help",
        "access /grant",
        "access /revoke",
        "access /link",
        "access /unlink",
        "access ar:",
        "access gp:",
        "audit_log /audit",
        "audit_log au:",
        "buddy bm:",
        "buddy bw:",
        "newhead nhp:",
        "plan_upload plan_title",
        "plan_upload plan_row",
        "support ua:",
        "support uu:",
        "support uo:",
        "support uv:",
        "support support_need",
        "buddy bkn:",
        "buddy /matchterm",
        "privacy ex:",
        "buddy be:",
        "desk /desk",
        "desk /stats",
        "desk dke:",
        "find /find",
        "find /sle",
        "find fp:",
        "find pc:",
        "find sc:",
        "find ss:",
        "find ct:",
        "find sp:",
        "newhead /newhead",
        "newhead nhr:",
        "newhead nhw:",
        "newhead nhm:",
        "newhead nhs:",
        "newhead nhd:",
        "newhead nhf:",
        "newhead nhk:",
        "plan_picker pk:",
        "plan_upload pix:",
        "plan_upload pu:",
        "plan_view /plan",
        "plan_view /action",
        "plan_view /mine",
        "plan_view /report",
        "plan_view pv:",
        "plan_view rp:",
        "plan_view rt:",
        "plan_view pa:",
        "plans_admin /plans",
        "privacy /mydata",
        "privacy /erase",
        "privacy ep:",
        "privacy ek:",
        "privacy_notice /privacy",
        "profile /me",
        "progress /update",
        "progress upc:",
        "progress upq:",
        "progress upp:",
        "progress upa:",
        "progress upn:",
        "progress upr:",
        "progress upk:",
        "progress upx:",
        "reminders /chase",
        "reminders /digest",
        "reminders chs:",
    }
)


@dataclass(frozen=True)
class Row:
    feature: str
    kind: str  # "command" | "button" | "text"
    key: str  # "/grant", "aa:", "access_request"
    role: Role
    relation: str
    what: str

    @property
    def ident(self) -> str:
        return f"{self.feature} {self.key}"


def _entries(manifest: Manifest) -> list[Command | Button | TextStep]:
    out: list[Command | Button | TextStep] = [*manifest.commands, *manifest.buttons, *manifest.text_steps]
    for conversation in manifest.conversations:
        out += [*conversation.entry, *conversation.fallbacks]
        for steps in conversation.states.values():
            out += [s for s in steps if isinstance(s, (Command, Button))]
    return out


def _row(feature: str, entry: Command | Button | TextStep, writes: Writes) -> Row:
    if writes.relation not in RELATIONS:
        raise ValueError(f"{feature}: unknown relation {writes.relation!r}")
    if isinstance(entry, Command):
        kind, key = "command", f"/{entry.name}"
    elif isinstance(entry, Button):
        kind, key = "button", f"{entry.prefix}:"
    else:
        kind, key = "text", entry.name
    return Row(feature, kind, key, entry.role, writes.relation, writes.what)


def idents(features: Features) -> set[str]:
    """Every Command, Button and TextStep of every feature, as "feature key"."""
    out = set()
    for manifest in features.manifests:
        for entry in _entries(manifest):
            if isinstance(entry, Command) and entry.name == "cancel":
                continue  # ends a flow, changes nothing
            if isinstance(entry, Command):
                out.add(f"{manifest.name} /{entry.name}")
            elif isinstance(entry, Button):
                out.add(f"{manifest.name} {entry.prefix}:")
            else:
                out.add(f"{manifest.name} {entry.name}")
    return out


def authority_table(features: Features) -> list[Row]:
    rows: dict[str, Row] = {}
    for manifest in features.manifests:
        for entry in _entries(manifest):
            if entry.writes is not None:
                row = _row(manifest.name, entry, entry.writes)
                rows.setdefault(row.ident, row)
    return sorted(rows.values(), key=lambda r: (r.feature, r.kind, r.key))


def allowed(row: Row, role: Role, linked: bool, owner: bool) -> bool:
    """May an actor with this role and relation do what the row declares?"""
    if role < row.role:
        return False
    if row.relation == "linked":
        return linked  # the change is to the actor's linked entry: an unlinked account has none
    if row.relation == "owner":
        return owner
    if row.relation == "linked or office":
        return linked or role >= Role.COORDINATOR  # e.g. a coordinator answers for a buddy not on Telegram
    if row.relation == "owner or office":
        return owner or role >= Role.COORDINATOR  # e.g. progress: the action's owners, coordinators, admins
    return True  # "none", and "self": the handler can only ever reach the actor's own record


def render(rows: list[Row]) -> str:
    """The table as Markdown (pasted into docs/ARCHITECTURE.md between the markers)."""
    lines = [
        "| feature | handler | role (at least) | relation to the target | what it changes |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(f"| {row.feature} | `{row.key}` | {row.role.name.lower()} | {row.relation} | {row.what} |")
    return "\n".join(lines)
