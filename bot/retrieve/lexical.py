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

import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from vectorstore.store import Chunk

K1, B = 1.5, 0.75
_MAX_SEGMENTS = 8  # beyond this many, all segments are merged into one (a query visits each)
_FORMAT = 1


@dataclass(frozen=True)
class Segment:
    """Rows (chunks) with their term counts; `live` masks rows whose document changed or went."""

    chunks: tuple[Chunk, ...]  # without text: texts are fetched by id for the few passages a question needs
    counts: sp.csc_matrix  # rows x columns of the vocabulary as it was when the segment was built
    lengths: np.ndarray  # terms per row
    live: np.ndarray  # bool per row


@dataclass(frozen=True)
class LexicalIndex:
    """`top(terms, k)` -> the best chunks by BM25; `changed(...)` -> a new index with documents replaced."""

    segments: tuple[Segment, ...] = ()
    vocab: dict[str, int] = field(default_factory=dict)
    df: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # live chunks holding each term
    n_live: int = 0
    total_length: float = 0.0
    rows_of: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)  # doc_id -> (segment, row)

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
        """Every live chunk, in index order."""
        return [c for s in self.segments for c, ok in zip(s.chunks, s.live, strict=True) if ok]

    def scores(self, terms: Sequence[str]) -> tuple[np.ndarray, list[tuple[int, Segment]]]:
        """BM25 of every row (0 for dead rows) and where each segment starts in it."""
        starts, offset = [], 0
        for seg in self.segments:
            starts.append((offset, seg))
            offset += len(seg.chunks)
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
            out[start : start + len(seg.chunks)] *= seg.live
        return out, starts

    def top(self, terms: Sequence[str], k: int, allowed: set[str] | None = None) -> list[tuple[Chunk, float]]:
        """The k best live chunks with a positive score (of the `allowed` documents only, when given)."""
        scores, starts = self.scores(terms)
        if not len(scores):
            return []
        chunk_at = _Rows(starts)
        want = k
        while True:
            top = min(want, len(scores))
            head = np.argpartition(-scores, top - 1)[:top]
            out: list[tuple[Chunk, float]] = []
            for i in head[np.argsort(-scores[head], kind="stable")]:
                if scores[i] <= 0 or len(out) >= k:
                    break
                c = chunk_at(int(i))
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
            for si, row in rows_of.pop(doc_id, ()):
                live = masked.setdefault(si, segments[si].live.copy())
                if not live[row]:
                    continue
                live[row] = False
                seg = segments[si]
                cols = seg.counts[row, :].nonzero()[1]  # the row's terms (a row of a column-major matrix: rare)
                df[cols] -= 1
                n_live -= 1
                total -= float(seg.lengths[row])
        for si, live in masked.items():
            segments[si] = replace(segments[si], live=live)
        vocab = self.vocab
        if chunks:
            vocab = dict(vocab)
            rows, cols, vals = [], [], []
            lengths = np.zeros(len(chunks), np.float32)
            for r, toks in enumerate(tokens):
                counts: dict[int, int] = {}
                for t in toks:
                    col = vocab.setdefault(t, len(vocab))
                    counts[col] = counts.get(col, 0) + 1
                rows += [r] * len(counts)
                cols += list(counts)
                vals += list(counts.values())
                lengths[r] = len(toks)
            if len(vocab) > len(df):
                df = np.concatenate([df, np.zeros(len(vocab) - len(df), df.dtype)])
            matrix = sp.csc_matrix((np.asarray(vals, np.float32), (rows, cols)), shape=(len(chunks), len(vocab)))
            np.add.at(df, np.asarray(cols, np.int64), 1)
            n_live += len(chunks)
            total += float(lengths.sum())
            si = len(segments)
            segments.append(Segment(tuple(_textless(c) for c in chunks), matrix, lengths,
                                     np.ones(len(chunks), bool)))
            for r, c in enumerate(chunks):
                rows_of[c.doc_id] = (*rows_of.get(c.doc_id, ()), (si, r))
        index = LexicalIndex(tuple(segments), vocab, df, n_live, total, rows_of)
        return index.merged() if len(segments) > _MAX_SEGMENTS else index

    def merged(self) -> LexicalIndex:
        """One segment of the live rows (a query then visits one matrix; dead rows stop costing memory)."""
        width = len(self.vocab)
        parts, chunks, lengths = [], [], []
        for seg in self.segments:
            keep = np.flatnonzero(seg.live)
            if not len(keep):
                continue
            m = seg.counts[keep, :]
            m.resize((len(keep), width))
            parts.append(m)
            chunks += [seg.chunks[i] for i in keep]
            lengths.append(seg.lengths[keep])
        if not parts:
            return replace(self, segments=(), rows_of={})
        counts = sp.csc_matrix(sp.vstack(parts, format="csc"))
        rows_of: dict[str, tuple[tuple[int, int], ...]] = {}
        for r, c in enumerate(chunks):
            rows_of[c.doc_id] = (*rows_of.get(c.doc_id, ()), (0, r))
        seg = Segment(tuple(chunks), counts, np.concatenate(lengths), np.ones(len(chunks), bool))
        return replace(self, segments=(seg,), rows_of=rows_of)

    # -- disk ------------------------------------------------------------------------------------
    def save(self, folder: Path, extra: dict[str, object]) -> None:
        """Write the index (merged to one segment) and `extra` (what it was built from) to `folder`, atomically:
        a reader finds the old snapshot or the new one, never half of one."""
        index = self.merged() if len(self.segments) != 1 else self
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".lexical-", dir=folder.parent))
        try:
            if index.segments:
                seg = index.segments[0]
                m = seg.counts
                np.save(tmp / "data.npy", m.data)
                np.save(tmp / "indices.npy", m.indices)
                np.save(tmp / "indptr.npy", m.indptr)
                np.save(tmp / "lengths.npy", seg.lengths)
                np.save(tmp / "live.npy", seg.live)
                np.save(tmp / "df.npy", index.df)
                with open(tmp / "rows.pkl", "wb") as f:
                    pickle.dump((seg.chunks, index.vocab, m.shape), f, protocol=pickle.HIGHEST_PROTOCOL)
            with open(tmp / "extra.pkl", "wb") as f:
                pickle.dump(extra, f, protocol=pickle.HIGHEST_PROTOCOL)
            (tmp / "meta.json").write_text(json.dumps({"format": _FORMAT, "n_live": index.n_live,
                                                       "total_length": index.total_length}))
            old = Path(tempfile.mkdtemp(prefix=".lexical-old-", dir=folder.parent))
            try:
                if folder.exists():
                    os.replace(folder, old / "index")
                os.replace(tmp, folder)
            except OSError:
                pass  # another process saved its copy at this moment: either is a valid snapshot
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> tuple[LexicalIndex, dict[str, object]] | None:
        """The saved index and its `extra`, with the large arrays memory-mapped; None if there is none usable."""
        try:
            meta = json.loads((folder / "meta.json").read_text())
            if meta.get("format") != _FORMAT:
                return None
            with open(folder / "extra.pkl", "rb") as f:
                extra = pickle.load(f)  # noqa: S301 - written by this process's code, in its own data folder
            if not (folder / "rows.pkl").exists():
                return cls(), extra
            with open(folder / "rows.pkl", "rb") as f:
                chunks, vocab, shape = pickle.load(f)  # noqa: S301 - as above
            arrays = {n: np.load(folder / f"{n}.npy", mmap_mode="r")
                      for n in ("data", "indices", "indptr", "lengths", "live", "df")}
        except (OSError, ValueError, EOFError, pickle.UnpicklingError, KeyError):
            return None
        counts = sp.csc_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape, copy=False)
        seg = Segment(chunks, counts, arrays["lengths"], np.asarray(arrays["live"]).copy())
        rows_of: dict[str, tuple[tuple[int, int], ...]] = {}
        for r, c in enumerate(chunks):
            rows_of[c.doc_id] = (*rows_of.get(c.doc_id, ()), (0, r))
        index = cls((seg,), vocab, np.asarray(arrays["df"]).copy(), int(meta["n_live"]), float(meta["total_length"]),
                    rows_of)
        return index, extra


class _Rows:
    """Row number in the concatenated scores -> chunk."""

    def __init__(self, starts: list[tuple[int, Segment]]) -> None:
        self.starts = starts

    def __call__(self, i: int) -> Chunk:
        for start, seg in reversed(self.starts):
            if i >= start:
                return seg.chunks[i - start]
        raise IndexError(i)


def _textless(c: Chunk) -> Chunk:
    return c if not c.text else replace(c, text="")
