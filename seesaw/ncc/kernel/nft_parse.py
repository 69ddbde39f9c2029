"""Pure: nft's JSON listing of our tables -> what they hold, in the text form nft_render.py renders.

`parse(listing)` reads one `nft -j list table ...` answer. Elements of the maps
named in `skip` (the dynamic flow maps, which the packet path writes) are not
kept. Keys and values come back as nft text ("10.0.0.1 . 6 . 80"): protocol
names are turned back into numbers, so a rendered element and a read one
compare equal when the kernel holds what we wrote.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from seesaw.ncc.kernel.nft_render import Elements, ElemKey, ElemVal

Counter = tuple[int, int]  # (packets, bytes) of one element of a set or map declared with `counter`

# How nft prints the protocol numbers we write into keys.
_PROTOCOLS = {"tcp": "6", "udp": "17", "sctp": "132", "icmp": "1", "ipv6-icmp": "58", "icmpv6": "58"}


@dataclass(frozen=True)
class ChainInfo:
    hook: str | None  # "prerouting", "ingress", ... for a base chain
    device: str | None
    rule_comments: tuple[str | None, ...]


@dataclass
class Listing:
    tables: set[str] = field(default_factory=set)  # "ip seesaw"
    sets: dict[str, set[str]] = field(default_factory=dict)  # table -> maps and sets present
    elements: Elements = field(default_factory=dict)
    chains: dict[tuple[str, str], ChainInfo] = field(default_factory=dict)
    counters: dict[ElemKey, Counter] = field(default_factory=dict)  # of the elements of counted sets and maps

    def merge(self, other: Listing) -> None:
        self.tables |= other.tables
        for table, names in other.sets.items():
            self.sets.setdefault(table, set()).update(names)
        self.elements.update(other.elements)
        self.chains.update(other.chains)
        self.counters.update(other.counters)


def parse(listing: dict[str, Any] | None, skip: Container[str] = ()) -> Listing:
    out = Listing()
    if listing is None:
        return out
    rules: dict[tuple[str, str], list[str | None]] = {}
    heads: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    for item in listing.get("nftables", ()):
        if "table" in item:
            table = item["table"]
            out.tables.add(f"{table['family']} {table['name']}")
        elif "map" in item or "set" in item:
            body = item.get("map") or item["set"]
            ref = f"{body['family']} {body['table']}"
            out.sets.setdefault(ref, set()).add(body["name"])
            if body["name"] not in skip:
                for key, value, counter in _elements(body.get("elem", ()), "map" in item):
                    out.elements[(ref, body["name"], key)] = value
                    if counter is not None:
                        out.counters[(ref, body["name"], key)] = counter
        elif "chain" in item:
            chain = item["chain"]
            where = (f"{chain['family']} {chain['table']}", chain["name"])
            heads[where] = (chain.get("hook"), chain.get("dev"))
            rules.setdefault(where, [])
        elif "rule" in item:
            rule = item["rule"]
            rules.setdefault((f"{rule['family']} {rule['table']}", rule["chain"]), []).append(rule.get("comment"))
    for where, (hook, device) in heads.items():
        out.chains[where] = ChainInfo(hook, device, tuple(rules.get(where, ())))
    return out


def parse_text(table: str, text: str | None, skip: Container[str] = ()) -> Listing:
    """What nft's text listing of one table (`list table`, `list map`; terse or not) says it holds.

    Maps and sets, their elements (those of the maps in `skip` excepted), and chains: a rule
    counts as ours when it ends with our comment; a base chain's hook and device are kept.
    Elements come back as `parse` gives them from JSON: protocols and marks as decimal numbers.

    nft prints a large table as text faster than as JSON, and this reads it faster too, so the
    services part reads its tables this way; the DSR tables must be read this way anyway, because
    nft 1.0.6 cannot print their flow maps' `update` statements as JSON.
    """
    out = Listing()
    if text is None:
        return out
    out.tables.add(table)
    names: set[str] = set()
    for head in _BLOCK.finditer(text):
        kind, name = head.group("kind", "name")
        end = text.find("\n\t}", head.end())
        body = text[head.end() : end if end >= 0 else len(text)]
        if kind == "chain":
            out.chains[(table, name)] = _chain(body)
            continue
        names.add(name)
        start = body.find("elements = {")
        if start < 0 or name in skip:
            continue
        elements = body[start + len("elements = {") : body.rindex("}")]
        if "meta mark" in body[:start]:  # marks print as 0x%08x; we write (and JSON reads) them in decimal
            elements = _MARK.sub(lambda m: str(int(m.group(1), 16)), elements)
        for protocol, number in _PROTOCOL_KEYS:
            elements = elements.replace(protocol, number)
        counters = out.counters
        for key, value, counter in _elements_text(elements):
            out.elements[(table, name, key)] = value
            if counter is not None:
                counters[(table, name, key)] = counter
    out.sets[table] = names
    return out


def _elements_text(text: str) -> Iterator[tuple[str, ElemVal, Counter | None]]:
    """(key, (value, comment), counter) of each element of an `elements = { ... }` body.

    nft prints one element a line, which plain string splitting reads ten times faster than a
    regular expression; a line that holds a comma (several elements, or a comment with one in it)
    is left to the expression. An element of a counted set prints its counter right after its key.
    """
    for line in text.split(",\n"):
        if "," in line:
            for match in _ELEMENT.finditer(line):
                key, comment, value, packets, octets = match.group("key", "comment", "value", "packets", "bytes")
                yield key, (value, comment), None if packets is None else (int(packets), int(octets))
            continue
        counter: Counter | None = None
        head, counted, tail = line.partition(" counter packets ")
        if counted:
            packets, _, tail = tail.partition(" bytes ")
            octets, space, tail = tail.partition(" ")
            counter = (int(packets), int(octets))
            line = f"{head}{space}{tail}"
        key, quoted, rest = line.partition(' comment "')
        comment: str | None = None
        if quoted:
            comment, _, rest = rest.partition('"')
        else:
            key, _, rest = key.partition(" : ")
            rest = f" : {rest}" if rest else ""
        value = rest.partition(" : ")[2].strip()
        key = key.strip()
        if key:
            yield key, (value or None, comment), counter


# The head of one block of a table: `\tmap NAME {`; it ends at the next `\t}` (nft indents with tabs).
_BLOCK = re.compile(r"^\t(?P<kind>map|set|chain) (?P<name>\S+) \{$", re.M)
# One element: `KEY [comment "TEXT"] [: VALUE]`, then a comma or the end. A key is words without
# spaces joined by " . " (an IPv6 address holds ':', never a space); a value is words.
_ELEMENT = re.compile(
    r'\s*(?P<key>[^\s,"]+(?: \. [^\s,"]+)*)(?: counter packets (?P<packets>\d+) bytes (?P<bytes>\d+))?'
    r'(?: comment "(?P<comment>(?:[^"\\]|\\.)*)")?'
    r'(?: : (?P<value>[^\s,"]+(?: [^\s,"]+)*))?\s*(?:,|\Z)'
)
_MARK = re.compile(r"(?<![\w=])0x([0-9a-f]{8})\b")
_PROTOCOL_KEYS = [(f" . {name} . ", f" . {number} . ") for name, number in (("tcp", "6"), ("udp", "17"))]


def _chain(body: str) -> ChainInfo:
    hook: str | None = None
    device: str | None = None
    comments: list[str | None] = []
    for raw in body.splitlines():
        words = raw.split()
        if not words:
            continue
        if words[0] == "type" and "hook" in words:
            hook = words[words.index("hook") + 1]
            if "device" in words:
                device = words[words.index("device") + 1].strip('";')
        else:
            comments.append(_rule_comment(raw))
    return ChainInfo(hook, device, tuple(comments))


def _rule_comment(rule: str) -> str | None:
    head, sep, tail = rule.rstrip().rpartition(' comment "')
    return tail[:-1] if sep and tail.endswith('"') and head else None


def table_names(listing: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(family, name) of every table in a `list tables` answer."""
    if listing is None:
        return []
    return [(i["table"]["family"], i["table"]["name"]) for i in listing.get("nftables", ()) if "table" in i]


def _elements(items: Iterable[Any], is_map: bool) -> Iterable[tuple[str, ElemVal, Counter | None]]:
    for item in items:
        if is_map:
            key_form, value_form = item
            key, comment, counter = _key(key_form)
            yield key, (_text(value_form), comment), counter
        else:
            key, comment, counter = _key(item)
            yield key, (None, comment), counter


def _key(form: Any) -> tuple[str, str | None, Counter | None]:
    if isinstance(form, dict) and "elem" in form:
        elem = form["elem"]
        counter = elem.get("counter")
        counted = (int(counter["packets"]), int(counter["bytes"])) if isinstance(counter, dict) else None
        return _text(elem["val"]), elem.get("comment"), counted
    return _text(form), None, None


def _text(form: Any) -> str:
    if isinstance(form, dict):
        if "concat" in form:
            return " . ".join(_text(part) for part in form["concat"])
        if "elem" in form:
            return _text(form["elem"]["val"])
        for verdict in ("goto", "jump"):
            if verdict in form:
                return f"{verdict} {form[verdict]['target']}"
        if len(form) == 1:  # {"accept": null}, {"drop": null}, ...
            return next(iter(form))
        raise ValueError(f"unexpected element form {form!r}")
    if isinstance(form, str):
        return _PROTOCOLS.get(form, form)
    return str(form)
