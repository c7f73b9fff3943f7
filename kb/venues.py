"""What kind of venue a record's `venue` names, and which series it belongs to.

A record's venue is free text copied from a source ("CVPR 2024", "Findings of ACL 2025", "TMLR",
"CVPR 2025 Workshop on Mechanistic Interpretability for Vision"). Reference managers need to know whether it
is a conference or a journal (`@inproceedings` with a `booktitle` or `@article` with a `journal`; CSL's
`paper-conference` or `article-journal`), and the site groups papers by series ("CVPR", every year) on venue
pages. Both come from the text alone: the series is the venue without its year and parenthesised remarks;
the kind comes from a small table of well-known series (`KNOWN`) and otherwise from words such as
"Workshop", "Conference", "Journal" or "Transactions". A venue that says it is outside any proceedings
("non-proceedings", "non-archival") or that nothing identifies has no kind: it stays a `@misc` note.
Nothing is invented: a journal's full name is given only for the series in `KNOWN`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

Kind = Literal["conference", "workshop", "journal"]

# Series acronym -> (kind, full name of a journal or None). Conferences need no full name: the booktitle is
# the venue as the record writes it.
KNOWN: dict[str, tuple[Kind, str | None]] = {
    **{
        name: ("conference", None)
        for name in (
            "AAAI",
            "ACCV",
            "ACL",
            "ACM MM",
            "AISTATS",
            "BMVC",
            "CHI",
            "CIKM",
            "COLING",
            "COLM",
            "CVPR",
            "CoNLL",
            "CoRL",
            "EACL",
            "ECAI",
            "ECCV",
            "EMNLP",
            "FAccT",
            "ICASSP",
            "ICCV",
            "ICLR",
            "ICML",
            "ICME",
            "ICRA",
            "IJCAI",
            "IJCNLP",
            "INTERSPEECH",
            "IROS",
            "KDD",
            "LREC",
            "LREC-COLING",
            "MICCAI",
            "MIDL",
            "NAACL",
            "NeurIPS",
            "NIPS",
            "RSS",
            "SIGIR",
            "SOFSEM",
            "UAI",
            "WACV",
            "WSDM",
            "WWW",
        )
    },
    "TMLR": ("journal", "Transactions on Machine Learning Research"),
    "TPAMI": ("journal", "IEEE Transactions on Pattern Analysis and Machine Intelligence"),
    "IJCV": ("journal", "International Journal of Computer Vision"),
    "JMLR": ("journal", "Journal of Machine Learning Research"),
    "TACL": ("journal", "Transactions of the Association for Computational Linguistics"),
    "RA-L": ("journal", "IEEE Robotics and Automation Letters"),
}
ALIASES = {"NIPS": "NeurIPS"}
_YEAR = re.compile(r"\b(19|20)\d{2}\b")
_REMARK = re.compile(r"\s*\([^)]*\)")
_NOT_PUBLISHED = re.compile(r"non-proceedings|non-archival|preprint|arxiv|under review|submitted", re.IGNORECASE)
_WORKSHOP = re.compile(r"\bworkshops?\b", re.IGNORECASE)
_JOURNAL = re.compile(r"\b(journal|transactions|letters|review|magazine|sciences?)\b", re.IGNORECASE)
_CONFERENCE = re.compile(r"\b(conference|symposium|proceedings|findings|congress|colloquium)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Venue:
    text: str  # as the record writes it
    series: str  # without year and remarks: "CVPR", "Findings of ACL", "TMLR"
    kind: Kind | None
    journal: str | None  # the journal's name for a journal: its full name when known, else the series
    year: int | None  # the year the venue text names ("CVPR 2024"), which a citation of it carries

    @property
    def published(self) -> bool:
        return self.kind is not None


def series_of(text: str) -> str:
    """'CVPR 2024' -> 'CVPR'; 'Information Sciences (2025)' -> 'Information Sciences'; 'NIPS 2017' -> 'NeurIPS'."""
    plain = _REMARK.sub("", text)
    plain = _YEAR.sub("", plain)
    plain = re.sub(r"\s+", " ", plain).strip(" ,;:-'\"")
    head, _, rest = plain.partition(" ")
    if head in ALIASES:
        plain = " ".join(part for part in (ALIASES[head], rest) if part)
    return plain or text.strip()


@lru_cache(maxsize=4096)
def parse(text: str) -> Venue:
    series = series_of(text)
    words = set(re.findall(r"[A-Za-z][A-Za-z-]*", series))
    acronym = next(
        (name for name in sorted(KNOWN, key=len, reverse=True) if (" " in name and name in series) or name in words),
        None,
    )
    kind: Kind | None
    journal = None
    if _NOT_PUBLISHED.search(text):
        kind = None
    elif _WORKSHOP.search(text):
        kind = "workshop"
    elif acronym is not None:
        kind, full = KNOWN[acronym]
        journal = full or series if kind == "journal" else None
    elif _CONFERENCE.search(series):
        kind = "conference"
    elif _JOURNAL.search(series):
        kind, journal = "journal", series
    else:
        kind = None
    years = _YEAR.search(text)
    return Venue(text, series, kind, journal, int(years.group(0)) if years else None)
