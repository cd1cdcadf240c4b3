"""The authority table: for every handler that writes and every button that decides, which role and which
relation to the target may do it, generated from the features' manifests (`writes=Writes(...)` on a Command,
Button or TextStep, handlers/manifest.py). docs/ARCHITECTURE.md holds the rendered table (a test keeps it
current) and tests/test_authority.py walks it with every kind of actor."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.manifest import Button, Command, Features, Manifest, TextStep, Writes
from storage.members import Role

RELATIONS = ("none", "self", "linked", "owner")


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
