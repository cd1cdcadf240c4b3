"""The two plans described in issue 10, written as the files partnerships send.

- `council_scrutiny_plan()`: tab-separated, references a) to m) in an unheaded first column, a blank line
  between rows, rows that continue the one above with empty leading cells, owners with "&".
- `pdf_priority_plan()`: a priority plan copied out of a PDF: columns as runs of tabs and spaces, words
  broken across lines, a two-row heading "RAG rated / progress" over term columns, plan year 2016/17.

Each returns (bytes, expected) where expected says what a faithful import holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LETTERS = "abcdefghijklm"
OWNERS = [
    "AD Learning & Skills",
    "Head of School Improvement",
    "Cabinet Member for Children & Families",
    "Virtual School Head",
    "AD Learning & Skills",
    "Principal Adviser (Secondary)",
    "SEND Strategic Lead",
    "Head of Admissions & Transport",
    "AD Learning & Skills",
    "Data & Performance Manager",
    "Head of School Improvement",
    "Early Years Lead",
    "Scrutiny Officer",
]


@dataclass
class Expected:
    refs: list[str]
    texts: dict[str, str] = field(default_factory=dict)  # ref → action text (whole)
    owners: dict[str, list[str]] = field(default_factory=dict)
    aims: dict[str, str] = field(default_factory=dict)
    ratings: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)  # ref → (year, term, code)


def council_scrutiny_plan() -> tuple[bytes, Expected]:
    lines = [
        "Children and Young People Scrutiny Panel",
        "Review of school attendance: response to recommendations",
        "Agreed by Cabinet, March 2020",
        "",
        "\tRecommendation\tProposed action\tBy whom\tBudget cost\tTimescale",
        "",
    ]
    expected = Expected(refs=[f"{c})" for c in LETTERS])
    for n, letter in enumerate(LETTERS):
        ref = f"{letter})"
        rec = f"The council should review attendance practice number {n + 1}"
        action = f"Officers to draft a protocol for attendance area {n + 1}"
        owner = OWNERS[n]
        lines.append(
            f"{ref}\t{rec}\t{action}\t{owner}\t£{(n + 1) * 500}\tBy {['April', 'July', 'December'][n % 3]} 2020"
        )
        if n % 3 == 1:
            # A row continuing the one above: empty leading cells, more of the action and a second owner.
            lines.append("\t\tand report progress to the panel\tScrutiny Officer\t\t")
            action = f"{action} and report progress to the panel"
            expected.owners[ref] = [owner, "Scrutiny Officer"] if owner != "Scrutiny Officer" else [owner]
        else:
            expected.owners[ref] = [owner]
        lines.append("")  # the blank line between rows
        expected.texts[ref] = action
        expected.aims[ref] = rec
    return ("\r\n".join(lines) + "\r\n").encode("cp1252"), expected


def pdf_priority_plan() -> tuple[bytes, Expected]:
    """Columns laid out by position, as text copied out of a PDF table arrives."""
    widths = [6, 34, 22, 12, 8, 8, 8, 30]

    def line(*cells: str, tabs: bool = False) -> str:
        out = ""
        for text, width in zip(cells, widths):
            piece = text.ljust(width) if text else " " * width
            out += piece
        if tabs:  # some lines come with runs of tabs where the spaces were
            out = out.replace("        ", "\t")
        return out.rstrip()

    rows = [
        (
            "1.1",
            ["Develop a regional CPD offer for", "middle leaders in every LA"],
            ["L Draycott", "(CPD lead)"],
            "Dec 2016",
            ("G", "G", "A"),
            ["Offer launched; take-up", "slow in the summer"],
        ),
        (
            "1.2",
            ["Broker school-to-school sup-", "port for RI schools"],
            ["K Shilton"],
            "Mar 2017",
            ("A", "G", "G"),
            ["Eight schools supported"],
        ),
        (
            "1.3",
            ["Recruit and deploy new SLEs"],
            ["R Beards", "& K Hibbs"],
            "Jul 2017",
            ("R", "A", "G"),
            ["Twelve SLEs designated"],
        ),
        (
            "2.1",
            ["Termly data sharing between", "teaching schools"],
            ["BSP"],
            "Termly",
            ("G", "", ""),
            ["Protocol agreed"],
        ),
    ]
    text = [
        "EAST MIDLANDS PRIORITY PLAN 2016/17",
        "Page 1 of 2",
        "",
        line("Ref", "Key actions and impact", "Responsible", "Timeline", "RAG rated", "", "", "Progress"),
        line("", "", "", "", "Aut 16", "Spr 17", "Sum 17", "comment"),
        "",
    ]
    expected = Expected(refs=[r[0] for r in rows])
    terms = [(2016, "autumn"), (2016, "spring"), (2016, "summer")]
    for ref, action, owner, when, rag, comment in rows:
        height = max(len(action), len(owner), len(comment))
        for k in range(height):
            text.append(
                line(
                    ref if k == 0 else "",
                    action[k] if k < len(action) else "",
                    owner[k] if k < len(owner) else "",
                    when if k == 0 else "",
                    *(rag if k == 0 else ("", "", "")),
                    comment[k] if k < len(comment) else "",
                    tabs=k % 2 == 1,
                )
            )
        joined = " ".join(action).replace("sup- port", "support")
        expected.texts[ref] = joined
        expected.owners[ref] = {"1.1": ["L Draycott (CPD lead)"], "1.3": ["R Beards", "K Hibbs"]}.get(ref, owner)
        expected.ratings[ref] = [(y, t, code) for (y, t), code in zip(terms, rag) if code]
        text.append("")
    text += ["---", "Page 2 of 2"]
    return "\n".join(text).encode("utf-8"), expected
