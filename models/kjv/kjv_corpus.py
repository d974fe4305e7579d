"""The King James Bible as one verse per line, from Debian's bible-kjv package, and its split.

`bible -f` prints "Ge1:1 In the beginning ..." with its own book abbreviations; each line becomes
"Genesis 1:1 In the beginning ..." so that references read as people write them. Runs of spaces
(the text has a few double spaces) are collapsed to one.
"""
import re
import subprocess

BOOKS = [
    ("Ge", "Genesis"), ("Exo", "Exodus"), ("Lev", "Leviticus"), ("Num", "Numbers"),
    ("Deu", "Deuteronomy"), ("Josh", "Joshua"), ("Jdgs", "Judges"), ("Ruth", "Ruth"),
    ("1Sm", "1 Samuel"), ("2Sm", "2 Samuel"), ("1Ki", "1 Kings"), ("2Ki", "2 Kings"),
    ("1Chr", "1 Chronicles"), ("2Chr", "2 Chronicles"), ("Ezra", "Ezra"), ("Neh", "Nehemiah"),
    ("Est", "Esther"), ("Job", "Job"), ("Psa", "Psalms"), ("Prv", "Proverbs"),
    ("Eccl", "Ecclesiastes"), ("SSol", "Song of Solomon"), ("Isa", "Isaiah"), ("Jer", "Jeremiah"),
    ("Lam", "Lamentations"), ("Eze", "Ezekiel"), ("Dan", "Daniel"), ("Hos", "Hosea"),
    ("Joel", "Joel"), ("Amos", "Amos"), ("Obad", "Obadiah"), ("Jonah", "Jonah"), ("Mic", "Micah"),
    ("Nahum", "Nahum"), ("Hab", "Habakkuk"), ("Zep", "Zephaniah"), ("Hag", "Haggai"),
    ("Zec", "Zechariah"), ("Mal", "Malachi"), ("Mat", "Matthew"), ("Mark", "Mark"), ("Luke", "Luke"),
    ("John", "John"), ("Acts", "Acts"), ("Rom", "Romans"), ("1Cor", "1 Corinthians"),
    ("2Cor", "2 Corinthians"), ("Gal", "Galatians"), ("Eph", "Ephesians"), ("Phi", "Philippians"),
    ("Col", "Colossians"), ("1Th", "1 Thessalonians"), ("2Th", "2 Thessalonians"),
    ("1Tim", "1 Timothy"), ("2Tim", "2 Timothy"), ("Titus", "Titus"), ("Phmn", "Philemon"),
    ("Heb", "Hebrews"), ("Jas", "James"), ("1Pet", "1 Peter"), ("2Pet", "2 Peter"),
    ("1Jn", "1 John"), ("2Jn", "2 John"), ("3Jn", "3 John"), ("Jude", "Jude"), ("Rev", "Revelation"),
]
BOOK_NAMES = dict(BOOKS)
VERSE_COUNT = 31102
# Every 50th verse (2%) is held out: spread over all books, so the held-out text has every genre.
HELDOUT_EVERY = 50

_LINE = re.compile(r"([1-3]?[A-Za-z]+)(\d+):(\d+) (.+)")


class Verse:
    def __init__(self, book, chapter, verse, text):
        self.book, self.chapter, self.verse, self.text = book, chapter, verse, text

    def line(self):
        return f"{self.book} {self.chapter}:{self.verse} {self.text}"


def read_verses():
    """All verses in canonical order; fails naming the line when `bible` prints something unexpected."""
    out = subprocess.run(["bible", "-f", "Genesis1:1-Revelation22:21"], check=True,
                         capture_output=True, text=True, encoding="ascii").stdout
    verses = []
    for number, raw in enumerate(out.splitlines(), 1):
        m = _LINE.fullmatch(raw.rstrip())
        if not m or m.group(1) not in BOOK_NAMES:
            raise ValueError(f"bible output line {number}: not '<book><chapter>:<verse> <text>': {raw!r}")
        text = " ".join(m.group(4).split())
        verses.append(Verse(BOOK_NAMES[m.group(1)], int(m.group(2)), int(m.group(3)), text))
    if len(verses) != VERSE_COUNT:
        raise ValueError(f"bible output: {len(verses)} verses, the KJV has {VERSE_COUNT}")
    return verses


def is_heldout(index):
    return index % HELDOUT_EVERY == HELDOUT_EVERY - 1


def split(verses):
    """(training verses, held-out verses), both in canonical order."""
    train = [v for i, v in enumerate(verses) if not is_heldout(i)]
    heldout = [v for i, v in enumerate(verses) if is_heldout(i)]
    return train, heldout


def chapters(verses):
    """The verses grouped by (book, chapter), in order."""
    groups, key = [], None
    for v in verses:
        if (v.book, v.chapter) != key:
            groups.append([])
            key = (v.book, v.chapter)
        groups[-1].append(v)
    return groups
