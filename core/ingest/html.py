"""HTML pages (an intranet page's table, a page saved from a browser or exported by Word) into tables.

lxml's HTML parser reads the page; nothing in it is run or fetched (no scripts, no network, no entities,
no external stylesheets). Each <table> becomes a table with rowspan/colspan expanded the way a browser
lays them out (anchors keep their span, covered cells point at them), the cell's background colour kept
as its fill (a `bgcolor` attribute, an inline `style`, or a class given a colour by the page's own <style>),
its text colour as its colour, and the headings and paragraphs before it as its headings. Tables inside
cells are tables of their own, marked with the table they sit in. Sizes are checked as the grid is built
(rows, columns, cells, spans, tables, and how deep elements nest).
"""

from __future__ import annotations

import codecs
import re
from typing import Any

from core.i18n import _
from core.ingest.limits import check_bytes, check_grid, refuse
from core.ingest.model import Cell, Document, IngestError, IngestLimits, Row, Table, damaged
from core.ingest.text import clean_cell, clean_title

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_HTML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|table|meta|title)\b",
    re.IGNORECASE | re.DOTALL,
)
_SKIP = {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math", "head"}
_BLOCKS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "caption", "dt", "dd", "blockquote", "pre"}
_CONTAINERS = {"div", "section", "article", "header", "footer", "main", "center", "td", "th", "body"}
_LINE_BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dt", "dd"}
_SPACES = re.compile(r"[ \t\r\n\f]+")
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_CSS_CLASS = re.compile(r"^\s*(?:[a-z][a-z0-9]*)?\.([A-Za-z_][\w-]*)\s*$")


def looks_like_html(data: bytes) -> bool:
    """The bytes begin as an HTML page or fragment (a doctype, <html>, <table> ... after comments)."""
    head = data[:4096]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = data[:8192].decode("utf-16", errors="ignore").encode("utf-8")
    return bool(_HTML_START.match(head))


def decode_html(data: bytes) -> str:
    """The page's text: a BOM, else the charset its <meta> names, else UTF-8, else Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    m = _CHARSET.search(data[:4096])
    if m:
        try:
            codec = codecs.lookup(m.group(1).decode("ascii"))
            if codec.name not in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):  # a meta that lies
                return data.decode(codec.name, errors="replace")
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def css_colour(value: str | None) -> str | None:
    """'RRGGBB' of a CSS/HTML colour ('#f00', 'red', 'rgb(255, 0, 0)', 'ff0000' as old pages write it);
    None for none, transparent, or what is not a colour."""
    if not value:
        return None
    value = value.strip().strip("\"'").lower()
    if not value or value in ("transparent", "none", "inherit", "initial", "currentcolor", "auto"):
        return None
    if re.fullmatch(r"[0-9a-f]{6}", value):
        value = "#" + value
    from PIL import ImageColor

    try:
        rgb = ImageColor.getrgb(value)
    except ValueError:
        return None
    if len(rgb) == 4 and rgb[3] == 0:
        return None
    return "{:02X}{:02X}{:02X}".format(*rgb[:3])


def _declarations(style: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (style or "").split(";"):
        name, sep, value = part.partition(":")
        if sep:
            out[name.strip().lower()] = value.replace("!important", "").strip()
    return out


def _background(decl: dict[str, str]) -> str | None:
    if "background-color" in decl:
        return css_colour(decl["background-color"])
    if "background" in decl:
        for word in re.findall(r"#[0-9a-fA-F]{3,8}|rgba?\([^)]*\)|hsla?\([^)]*\)|[a-zA-Z]+", decl["background"]):
            colour = css_colour(word)
            if colour:
                return colour
    return None


def _bold(decl: dict[str, str]) -> bool | None:
    weight = decl.get("font-weight")
    if not weight:
        return None
    return weight in ("bold", "bolder") or (weight.isdigit() and int(weight) >= 600)


class _Styles:
    """Colours the page's own <style> gives to classes (".red { background: #f00 }", "td.done {...}")."""

    def __init__(self, root: Any):
        self.fill: dict[str, str] = {}
        self.colour: dict[str, str] = {}
        self.bold: dict[str, bool] = {}
        for node in root.iter("style"):
            css = re.sub(r"/\*.*?\*/", "", node.text or "", flags=re.DOTALL)[:200_000]
            for selectors, body in _CSS_RULE.findall(css):
                decl = _declarations(body)
                fill, colour, bold = _background(decl), css_colour(decl.get("color")), _bold(decl)
                for selector in selectors.split(","):
                    m = _CSS_CLASS.match(selector)
                    if not m:
                        continue
                    if fill:
                        self.fill[m.group(1)] = fill
                    if colour:
                        self.colour[m.group(1)] = colour
                    if bold is not None:
                        self.bold[m.group(1)] = bold

    def of(self, element: Any) -> tuple[str | None, str | None, bool | None]:
        fill = colour = None
        bold: bool | None = None
        for name in (element.get("class") or "").split():
            fill = self.fill.get(name, fill)
            colour = self.colour.get(name, colour)
            bold = self.bold.get(name, bold)
        decl = _declarations(element.get("style"))
        fill = _background(decl) or css_colour(element.get("bgcolor")) or fill
        colour = css_colour(decl.get("color")) or colour
        weight = _bold(decl)
        return fill, colour, weight if weight is not None else bold


def _words(text: str, pre: bool) -> str:
    """A text node as a browser shows it: runs of white space (line breaks in the source included) are one
    space, except inside <pre>."""
    return text if pre else _SPACES.sub(" ", text)


def _text(element: Any, out: list[str], pre: bool = False) -> None:
    """The element's text as a reader sees it, without nested tables and what is never shown."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _SKIP or tag == "table":
        return
    pre = pre or tag == "pre"
    if tag in _LINE_BREAKS:
        out.append("\n")
    if element.text and tag:
        out.append(_words(element.text, pre))
    for child in element:
        _text(child, out, pre)
        if child.tail:
            out.append(_words(child.tail, pre))
    if tag in _LINE_BREAKS and tag != "br":
        out.append("\n")


def cell_text(element: Any) -> str:
    parts: list[str] = []
    if element.text:
        parts.append(_words(element.text, False))
    for child in element:
        _text(child, parts)
        if child.tail:
            parts.append(_words(child.tail, False))
    # clean_cell strips markup and entities from text that has them; here the parser has already read them,
    # so what looks like markup now ("&lt;b&gt;" shown as "<b>") is the cell's text: kept as it is.
    text = "".join(parts).replace("<", "\u2039").replace(">", "\u203a").replace("&", "\u2042")
    return clean_cell(text).replace("\u2039", "<").replace("\u203a", ">").replace("\u2042", "&")


def _font_colour(element: Any, styles: _Styles) -> str | None:
    """A colour the whole cell's text is given: the cell's own, or that of the one element holding its text."""
    children = [c for c in element if isinstance(c.tag, str)]
    if len(children) == 1 and not (element.text or "").strip():
        child = children[0]
        colour = css_colour(child.get("color")) if child.tag == "font" else None
        return colour or styles.of(child)[1] or _font_colour(child, styles)
    return None


def _check_depth(root: Any, limits: IngestLimits) -> None:
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > limits.max_html_depth:
            raise refuse("depth", depth, limits.max_html_depth)
        stack.extend((child, depth + 1) for child in element)


class _Reader:
    def __init__(self, limits: IngestLimits, styles: _Styles):
        self.limits = limits
        self.styles = styles
        self.doc = Document(format="html")

    def table(self, node: Any, headings: list[str], depth: int, parent: int | None) -> None:
        if depth > self.limits.max_nesting:
            raise refuse("nesting", depth, self.limits.max_nesting)
        if len(self.doc.tables) + 1 > self.limits.max_tables:
            raise refuse("tables", len(self.doc.tables) + 1, self.limits.max_tables)
        index = len(self.doc.tables)
        caption = next((clean_title(cell_text(c)) for c in node if c.tag == "caption"), "")
        headings = headings + [caption] if caption else list(headings)
        table = Table(
            title=headings[-1] if headings else "",
            headings=headings,
            source=_("table {n}").format(n=index + 1),
            nested_in=parent,
        )
        self.doc.tables.append(table)
        trs = [tr for tr in _own_rows(node)]
        check_grid(len(trs), 1, self.limits)
        table_fill = self.styles.of(node)[0]
        grid: dict[int, dict[int, Cell]] = {}
        width = 0
        nested: list[tuple[Any, str]] = []
        for r, tr in enumerate(trs):
            row = grid.setdefault(r, {})
            row_fill, row_colour, row_bold = self.styles.of(tr)
            col = 0
            for td in tr:
                if td.tag not in ("td", "th"):
                    continue
                while col in row:
                    col += 1
                col_span = _span(td.get("colspan"), self.limits)
                row_span = _span(td.get("rowspan"), self.limits, zero=len(trs) - r)
                row_span = min(row_span, len(trs) - r)  # a browser ends a rowspan at the table's last row
                if col + col_span > self.limits.max_columns:
                    raise refuse("columns", col + col_span, self.limits.max_columns)
                fill, colour, bold = self.styles.of(td)
                text = cell_text(td)
                cell = Cell(
                    text=text,
                    fill=fill or row_fill or table_fill,
                    colour=colour or _font_colour(td, self.styles) or row_colour,
                    col_span=col_span,
                    row_span=row_span,
                    bold=bool(bold if bold is not None else (td.tag == "th" or row_bold)),
                )
                if cell.colour == "000000":
                    cell.colour = None
                row[col] = cell
                for rr in range(r, r + row_span):
                    covered = grid.setdefault(rr, {})
                    for cc in range(col, col + col_span):
                        if (rr, cc) != (r, col):
                            covered[cc] = Cell(fill=cell.fill, covered_by=(r, col))
                if row_span * col_span > self.limits.max_cells:
                    raise refuse("cells", row_span * col_span, self.limits.max_cells)
                for inner in td.iter("table"):
                    if _owner_table(inner.getparent()) is node or inner.getparent() is td:
                        nested.append((inner, text))
                col += col_span
                width = max(width, col)
            check_grid(len(trs), width, self.limits)
        for r in range(len(trs)):
            cells = [grid.get(r, {}).get(c) or Cell() for c in range(width)]
            table.rows.append(Row(line=r + 1, cells=cells if any(c.text for c in cells) else []))
        for inner, text in nested:
            self.table(inner, headings + ([clean_title(text)] if text else []), depth + 1, index)


def _span(value: str | None, limits: IngestLimits, zero: int = 1) -> int:
    try:
        span = int(str(value).strip()) if value is not None else 1
    except ValueError:
        return 1
    if span == 0:
        span = zero  # rowspan="0": to the end of the table
    span = max(span, 1)
    if span > limits.max_span:
        raise refuse("span", span, limits.max_span)
    return span


def _owner_table(element: Any) -> Any:
    while element is not None and element.tag != "table":
        element = element.getparent()
    return element


def _own_rows(table: Any) -> list[Any]:
    """The table's rows in order (thead, tbody, tfoot or bare), not those of tables nested in its cells."""
    rows: list[Any] = []
    for child in table:
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            rows.extend(tr for tr in child if tr.tag == "tr")
    return rows


def read_html(data: bytes, limits: IngestLimits) -> Document:
    check_bytes(data, limits)
    text = _XML_DECLARATION.sub("", decode_html(data), count=1).replace("\x00", "")
    if not text.strip():
        raise IngestError(_("The file is empty."))
    from lxml import etree, html

    parser = html.HTMLParser(
        no_network=True, remove_comments=True, remove_pis=True, huge_tree=False, recover=True, default_doctype=False
    )
    try:
        root = html.document_fromstring(text, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise damaged(exc) from None
    _check_depth(root, limits)
    styles = _Styles(root)
    reader = _Reader(limits, styles)
    page_title = clean_title(" ".join(t.text_content() for t in root.iter("title")))
    paragraphs: list[str] = [page_title] if page_title else []
    skipping: set[Any] = set()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        parent = element.getparent()
        if parent is not None and parent in skipping:
            skipping.add(element)
            continue
        if element.tag in _SKIP or element.tag == "table":
            skipping.add(element)
            if element.tag == "table":
                if not reader.doc.tables:
                    reader.doc.preamble = list(paragraphs)
                reader.table(element, paragraphs, 0, None)
                paragraphs = []
            continue
        if element.tag in _BLOCKS or (element.tag in _CONTAINERS and _holds_text_itself(element)):
            for part in cell_text(element).split("\n"):
                line = clean_title(part)
                if line:
                    paragraphs.append(line)
            skipping.add(element)
    if not reader.doc.tables:
        raise IngestError(_("I found no table in this HTML page."))
    return reader.doc


def _holds_text_itself(element: Any) -> bool:
    """A <div> (or like) whose own text is not inside a block of its own: read as one paragraph."""
    if (element.text or "").strip():
        return not any(isinstance(c.tag, str) and c.tag in _BLOCKS | _CONTAINERS | {"table"} for c in element)
    return False
