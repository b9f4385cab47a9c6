"""BM25 over segments with archive-wide statistics, saved to disk and loaded memory-mapped.

bm25s bakes each term's idf into its stored scores, so one new document meant re-indexing every chunk's terms
(seconds at 10,000 articles, on every start and every upload). Here each segment keeps raw term counts (a scipy
sparse chunk x term matrix, column-major so a query term's postings are one slice), and idf and the average
length come from the live counts at query time. Adding documents adds a small segment, removing them masks their
rows, and the ranking is the same as one BM25 index built from everything (Lucene's idf, k1 = 1.5, b = 0.75: what
bm25s computed before). Segments are merged when there are more than a few.

Indexes are immutable: a change returns a new index sharing the untouched segments, so a question being answered
keeps ranking against the index it started with.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from vectorstore.store import Chunk, chunk_id, split_chunk_id

K1, B = 1.5, 0.75
_MAX_SEGMENTS = 8  # beyond this many, all segments are merged into one (a query visits each)
_FORMAT = 2  # 2: rows as arrays, not an object per chunk


@dataclass(frozen=True)
class Segment:
    """Rows (chunks) with their term counts; `live` masks rows whose document changed or went.

    What each row is lives in arrays, not in an object per chunk (a saved copy is then memory-mapped whole): the
    row's document (a place in `doc_ids` / `doc_revs`), its number in that document, and its offsets in the
    document's text. A document's rows are consecutive, from `doc_first[d]`."""

    counts: sp.csc_matrix  # rows x columns of the vocabulary as it was when the segment was built
    lengths: np.ndarray  # terms per row
    live: np.ndarray  # bool per row
    row_doc: np.ndarray
    row_index: np.ndarray
    row_start: np.ndarray
    row_end: np.ndarray
    doc_ids: np.ndarray
    doc_revs: np.ndarray
    doc_first: np.ndarray

    def __len__(self) -> int:
        return len(self.lengths)

    def rows(self, d: int) -> range:
        """The rows of the segment's `d`-th document."""
        return range(int(self.doc_first[d]), int(self.doc_first[d + 1]) if d + 1 < len(self.doc_first) else len(self))

    def chunk(self, row: int) -> Chunk:
        """The chunk at a row, without its text."""
        d = int(self.row_doc[row])
        doc_id, rev, index = str(self.doc_ids[d]), str(self.doc_revs[d]), int(self.row_index[row])
        return Chunk(chunk_id(doc_id, rev, index), doc_id, rev, index, int(self.row_start[row]),
                     int(self.row_end[row]), "")

    @classmethod
    def of(cls, chunks: Sequence[Chunk], counts: sp.csc_matrix, lengths: np.ndarray) -> Segment:
        """A segment of these chunks (each document's chunks consecutive, as `_grouped` orders them)."""
        docs: dict[str, int] = {}
        row_doc = np.fromiter((docs.setdefault(c.doc_id, len(docs)) for c in chunks), np.int32, len(chunks))
        revs = {c.doc_id: c.rev for c in chunks}
        first = np.flatnonzero(np.r_[True, row_doc[1:] != row_doc[:-1]]) if len(chunks) else np.zeros(0, np.int64)
        return cls(counts, lengths, np.ones(len(chunks), bool), row_doc,
                   np.fromiter((c.index for c in chunks), np.int32, len(chunks)),
                   np.fromiter((c.start for c in chunks), np.int32, len(chunks)),
                   np.fromiter((c.end for c in chunks), np.int32, len(chunks)),
                   np.array(list(docs), dtype=str), np.array([revs[d] for d in docs], dtype=str),
                   first.astype(np.int32))


_ARRAYS = ("lengths", "live", "row_doc", "row_index", "row_start", "row_end", "doc_ids", "doc_revs", "doc_first")


def _grouped(chunks: Sequence[Chunk], tokens: Sequence[Sequence[str]]
             ) -> tuple[list[Chunk], list[Sequence[str]]]:
    """Chunks (with their tokens) reordered so that each document's are consecutive, in chunk order."""
    first: dict[str, int] = {}
    for i, c in enumerate(chunks):
        first.setdefault(c.doc_id, i)
    order = sorted(range(len(chunks)), key=lambda i: (first[chunks[i].doc_id], chunks[i].index))
    return [chunks[i] for i in order], [tokens[i] for i in order]


@dataclass(frozen=True)
class LexicalIndex:
    """`top(terms, k)` -> the best chunks by BM25; `changed(...)` -> a new index with documents replaced."""

    segments: tuple[Segment, ...] = ()
    vocab: dict[str, int] = field(default_factory=dict)
    df: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # live chunks holding each term
    n_live: int = 0
    total_length: float = 0.0
    rows_of: dict[str, tuple[int, int]] = field(default_factory=dict)  # doc_id -> (segment, document in it)

    @classmethod
    def build(cls, chunks: Sequence[Chunk], tokens: Sequence[Sequence[str]]) -> LexicalIndex:
        return cls().changed((), chunks, tokens)

    # -- reading ---------------------------------------------------------------------------------
    def doc_freq(self, term: str) -> int:
        col = self.vocab.get(term)
        return int(self.df[col]) if col is not None else 0

    def idf(self, term: str) -> float:
        """Lucene's smoothed idf over live chunks (high for rare words)."""
        n, df = max(self.n_live, 1), self.doc_freq(term)
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))

    def chunks(self) -> list[Chunk]:
        """Every live chunk, in index order (an object per chunk: for tests and tools, not per question)."""
        return [s.chunk(int(r)) for s in self.segments for r in np.flatnonzero(s.live)]

    def chunk(self, cid: str) -> Chunk | None:
        """The live chunk with this id (None when its document is not indexed at that revision)."""
        parts = split_chunk_id(cid)
        where = self.rows_of.get(parts[0]) if parts else None
        if parts is None or where is None:
            return None
        seg = self.segments[where[0]]
        rows = seg.rows(where[1])
        if str(seg.doc_revs[where[1]]) != parts[1] or not 0 <= parts[2] < len(rows):
            return None
        row = rows[parts[2]]
        return seg.chunk(row) if seg.live[row] and int(seg.row_index[row]) == parts[2] else None

    def scores(self, terms: Sequence[str]) -> tuple[np.ndarray, list[tuple[int, Segment]]]:
        """BM25 of every row (0 for dead rows) and where each segment starts in it."""
        starts, offset = [], 0
        for seg in self.segments:
            starts.append((offset, seg))
            offset += len(seg)
        out = np.zeros(offset, np.float32)
        if not self.n_live:
            return out, starts
        avgdl = self.total_length / self.n_live
        for term in terms:  # a repeated query word counts again, as in bm25s
            col = self.vocab.get(term)
            if col is None or self.df[col] <= 0:
                continue
            idf = self.idf(term)
            for start, seg in starts:
                if col >= seg.counts.shape[1]:
                    continue
                lo, hi = seg.counts.indptr[col], seg.counts.indptr[col + 1]
                rows, tf = seg.counts.indices[lo:hi], seg.counts.data[lo:hi]
                norm = K1 * (1 - B + B * seg.lengths[rows] / avgdl)
                out[start + rows] += idf * tf / (tf + norm)  # Lucene drops the constant (k1 + 1)
        for start, seg in starts:
            out[start : start + len(seg)] *= seg.live
        return out, starts

    def top(self, terms: Sequence[str], k: int, allowed: set[str] | None = None) -> list[tuple[Chunk, float]]:
        """The k best live chunks with a positive score (of the `allowed` documents only, when given)."""
        scores, starts = self.scores(terms)
        if not len(scores):
            return []
        want = k
        while True:
            top = min(want, len(scores))
            head = np.argpartition(-scores, top - 1)[:top]
            out: list[tuple[Chunk, float]] = []
            for i in head[np.argsort(-scores[head], kind="stable")]:
                if scores[i] <= 0 or len(out) >= k:
                    break
                c = _chunk_at(starts, int(i))
                if allowed is None or c.doc_id in allowed:
                    out.append((c, float(scores[i])))
            # Widened only when a filter dropped most of the best few.
            if len(out) >= k or top >= len(scores) or scores[head].min() <= 0:
                return out
            want *= 4

    # -- changing --------------------------------------------------------------------------------
    def changed(self, gone: Iterable[str], chunks: Sequence[Chunk], tokens: Sequence[Sequence[str]]
                ) -> LexicalIndex:
        """A new index without the chunks of the `gone` documents and with `chunks` (their `tokens`) added."""
        segments = list(self.segments)
        df = self.df.copy()
        n_live, total = self.n_live, self.total_length
        rows_of = dict(self.rows_of)
        masked: dict[int, np.ndarray] = {}
        for doc_id in set(gone):
            where = rows_of.pop(doc_id, None)
            if where is None:
                continue
            si, d = where
            seg = segments[si]
            live = masked.setdefault(si, seg.live.copy())
            rows = [r for r in seg.rows(d) if live[r]]
            if not rows:
                continue
            live[rows] = False
            # The rows' terms (rows of a column-major matrix: read through a row-major copy of just them).
            cols = sp.csr_matrix(seg.counts[rows, :]).indices
            np.subtract.at(df, cols, 1)
            n_live -= len(rows)
            total -= float(np.asarray(seg.lengths)[rows].sum())
        for si, live in masked.items():
            segments[si] = replace(segments[si], live=live)
        vocab = self.vocab
        if chunks:
            chunks, tokens = _grouped(chunks, tokens)
            vocab = dict(vocab)
            rows_i, cols, vals = [], [], []
            lengths = np.zeros(len(chunks), np.float32)
            for r, toks in enumerate(tokens):
                counts: dict[int, int] = {}
                for t in toks:
                    col = vocab.setdefault(t, len(vocab))
                    counts[col] = counts.get(col, 0) + 1
                rows_i += [r] * len(counts)
                cols += list(counts)
                vals += list(counts.values())
                lengths[r] = len(toks)
            if len(vocab) > len(df):
                df = np.concatenate([df, np.zeros(len(vocab) - len(df), df.dtype)])
            matrix = sp.csc_matrix((np.asarray(vals, np.float32), (rows_i, cols)), shape=(len(chunks), len(vocab)))
            np.add.at(df, np.asarray(cols, np.int64), 1)
            n_live += len(chunks)
            total += float(lengths.sum())
            si = len(segments)
            seg = Segment.of(chunks, matrix, lengths)
            segments.append(seg)
            rows_of.update((str(doc_id), (si, d)) for d, doc_id in enumerate(seg.doc_ids))
        index = LexicalIndex(tuple(segments), vocab, df, n_live, total, rows_of)
        return index.merged() if len(segments) > _MAX_SEGMENTS else index

    def merged(self) -> LexicalIndex:
        """One segment of the live rows (a query then visits one matrix; dead rows stop costing memory)."""
        width = len(self.vocab)
        parts: list[sp.csc_matrix] = []
        arrays: dict[str, list[np.ndarray]] = {name: [] for name in _ARRAYS}
        docs_before = 0
        for seg in self.segments:
            keep = np.flatnonzero(seg.live)
            if not len(keep):
                continue
            m = seg.counts[keep, :]
            m.resize((len(keep), width))
            parts.append(m)
            # The segment's documents with live rows, renumbered after those of the segments before.
            alive = np.unique(np.asarray(seg.row_doc)[keep])
            renumber = np.full(len(seg.doc_ids), -1, np.int64)
            renumber[alive] = np.arange(len(alive)) + docs_before
            docs_before += len(alive)
            arrays["row_doc"].append(renumber[np.asarray(seg.row_doc)[keep]])
            for name in ("lengths", "row_index", "row_start", "row_end"):
                arrays[name].append(np.asarray(getattr(seg, name))[keep])
            arrays["doc_ids"].append(np.asarray(seg.doc_ids)[alive])
            arrays["doc_revs"].append(np.asarray(seg.doc_revs)[alive])
        if not parts:
            return replace(self, segments=(), rows_of={})
        counts = sp.csc_matrix(sp.vstack(parts, format="csc"))
        row_doc = np.concatenate(arrays["row_doc"]).astype(np.int32)
        first = np.flatnonzero(np.r_[True, row_doc[1:] != row_doc[:-1]]).astype(np.int32)
        index, start, end = (np.concatenate(arrays[n]).astype(np.int32) for n in ("row_index", "row_start", "row_end"))
        seg = Segment(counts, np.concatenate(arrays["lengths"]), np.ones(len(row_doc), bool), row_doc, index, start,
                      end, np.concatenate(arrays["doc_ids"]), np.concatenate(arrays["doc_revs"]), first)
        return replace(self, segments=(seg,), rows_of=_rows_of(seg))

    # -- disk ------------------------------------------------------------------------------------
    def save(self, folder: Path, extra: dict[str, object]) -> None:
        """Write the index (merged to one segment) and `extra` (what it was built from) as a new version in
        `folder`, then point `folder/current` at it by replacing a symbolic link, which is atomic: a reader,
        in this process or another (an ingest saving while a server starts), finds the old version or the new
        one, never none and never half of one. The version before stays for readers still loading it."""
        index = self.merged() if len(self.segments) != 1 else self
        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
        try:
            if index.segments:
                seg = index.segments[0]
                m = seg.counts
                for name, array in (("data", m.data), ("indices", m.indices), ("indptr", m.indptr),
                                    ("df", index.df), *((n, getattr(seg, n)) for n in _ARRAYS)):
                    np.save(tmp / f"{name}.npy", np.asarray(array))
                with open(tmp / "vocab.pkl", "wb") as f:
                    pickle.dump((index.vocab, m.shape), f, protocol=pickle.HIGHEST_PROTOCOL)
            with open(tmp / "extra.pkl", "wb") as f:
                pickle.dump(extra, f, protocol=pickle.HIGHEST_PROTOCOL)
            (tmp / "meta.json").write_text(json.dumps({"format": _FORMAT, "n_live": index.n_live,
                                                       "total_length": index.total_length}))
            version = f"v-{time.time_ns():020d}-{os.getpid()}"
            os.rename(tmp, folder / version)
            link = folder / f".current-{version}"
            os.symlink(version, link)
            os.replace(link, folder / _CURRENT)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _prune(folder)

    @classmethod
    def load(cls, folder: Path) -> tuple[LexicalIndex, dict[str, object]] | None:
        """The current saved version and its `extra`, with the large arrays memory-mapped; None if there is none
        usable. A version removed while it was being read (kept for two minutes after newer ones) is read again
        from the newest."""
        for _ in range(3):
            try:
                version = folder / os.readlink(folder / _CURRENT)
            except OSError:
                return None
            try:
                return cls._load_version(version)
            except FileNotFoundError:
                continue
        return None

    @classmethod
    def _load_version(cls, folder: Path) -> tuple[LexicalIndex, dict[str, object]] | None:
        try:
            meta = json.loads((folder / "meta.json").read_text())
            if meta.get("format") != _FORMAT:
                return None
            with open(folder / "extra.pkl", "rb") as f:
                extra = pickle.load(f)  # noqa: S301 - written by this process's code, in its own data folder
            if not (folder / "vocab.pkl").exists():
                return cls(), extra
            with open(folder / "vocab.pkl", "rb") as f:
                vocab, shape = pickle.load(f)  # noqa: S301 - as above
            arrays = {n: np.load(folder / f"{n}.npy", mmap_mode="r")
                      for n in ("data", "indices", "indptr", "df", *_ARRAYS)}
        except FileNotFoundError:
            raise
        except (OSError, ValueError, EOFError, pickle.UnpicklingError, KeyError):
            return None
        counts = sp.csc_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape, copy=False)
        seg = Segment(counts, *(arrays[n] for n in _ARRAYS))
        # `live` is changed in copies only; the saved one is all true, a copy in memory costs a byte a row.
        seg = replace(seg, live=np.asarray(seg.live).copy())
        index = cls((seg,), vocab, np.asarray(arrays["df"]).copy(), int(meta["n_live"]), float(meta["total_length"]),
                    _rows_of(seg))
        return index, extra


_CURRENT = "current"


def _prune(folder: Path, keep: int = 2, grace_s: float = 120.0) -> None:
    """Remove the versions other than the current one, the newest `keep` and those written in the last `grace_s`
    (a reader may still be loading one; another process may have written one that it has yet to link), and what
    an older layout or a killed save left."""
    try:
        current = os.readlink(folder / _CURRENT)
        entries = list(folder.iterdir())
    except OSError:
        return
    versions = sorted((e for e in entries if e.name.startswith("v-")), key=lambda e: e.name)
    keep_names = {current, *(v.name for v in versions[-keep:])}
    now = time.time()
    for e in entries:
        if e.name == _CURRENT or e.name in keep_names or now - _mtime(e) < grace_s:
            continue
        if e.is_dir() and not e.is_symlink():
            shutil.rmtree(e, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                e.unlink()


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def _rows_of(seg: Segment) -> dict[str, tuple[int, int]]:
    return {doc_id: (0, d) for d, doc_id in enumerate(seg.doc_ids.tolist())}


def _chunk_at(starts: list[tuple[int, Segment]], i: int) -> Chunk:
    """The chunk at row `i` of the concatenated scores."""
    for start, seg in reversed(starts):
        if i >= start:
            return seg.chunk(i - start)
    raise IndexError(i)
