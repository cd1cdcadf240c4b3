"""One kind of entry (people or schools) over one vocabulary: the arrays the search scores with.

Everything is held in numpy arrays and one list of vocabulary words (no per-entry objects), so the
space is small, pickles fast (directory.snapshot) and scores a query with a handful of vectorised steps:

- `tokmat` (words x entries: column-major, so a candidate's words are gathered and reduced along long
  rows) word ids of each entry's name, `wmat` their weights, `ctxmat` context words (a person's school
  and town); `pad` (= V) is a sentinel id whose similarity is always 0.
- postings in CSR form: `post_rows[post_ptr[w]:post_ptr[w + 1]]` are the entries holding word w.
- a symmetric-deletion typo index (`del_keys`, `del_words`): every vocabulary word and the words made
  by deleting one or two of its letters, as 32-bit hashes sorted with the word they came from. A query
  word's own deletions looked up there give every vocabulary word within the slips its length allows
  (a letter dropped, added, changed or two swapped; one slip, two from six letters) without comparing
  the query with the rest of the vocabulary; rapidfuzz then scores only those few. The query's own second
  deletions are probed only when its first (against the vocabulary's first and second) find nothing that
  scores: every word one slip away is found by the first probe, and most two away. Three slips (a word
  of ten letters or more) are looked for in the whole length window, only when fewer find nothing.

Similarities per query word: 1.0 exact, 0.9-0.98 prefix (a single letter is an initial), below 0.89
a typo (see directory.search for the constants and how they are combined into a score).
"""

from __future__ import annotations

import bisect
import math
import zlib
from collections.abc import Iterable, Sequence

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler

EXACT_SIM = 1.0
PREFIX_FLOOR = 0.895  # similarities at or above this (below 1) are prefix matches
TYPO_SCALE = 0.89  # typo similarity = ratio / 100 * TYPO_SCALE, so always below PREFIX_FLOOR
INITIAL_SIM = 0.9
CONTEXT_SCALE = 0.92
# Telling equally close typos apart (each weight times a 0-1 measure, kept below TYPO_SCALE): a shared start
# (Jaro-Winkler), how plausible the slip is (slip_plausibility) and how common the name is.
TIE_JARO = 0.01
TIE_SLIP = 0.02
TIE_COMMON = 0.01
TIE_BREAK_TOTAL = TIE_JARO + TIE_SLIP + TIE_COMMON

# Candidate entries come from the query's rarest words, within this many postings (see WordSpace.candidates).
POSTINGS_BUDGET = 1500
ALWAYS_POSTINGS = 100
CANDIDATE_CAP = 3000
WORD_CACHE = 4096

_EMPTY_IDS = np.zeros(0, dtype=np.int32)
_EMPTY_VALUES = np.zeros(0, dtype=np.float32)

WordMatches = tuple[np.ndarray, np.ndarray]  # (sorted vocabulary ids, similarities), all above 0


def typo_cutoff(word: str) -> float:
    """Least similarity (1 - edits / longer length) a typo may have: one slip up to six letters, two beyond."""
    n = len(word)
    if n <= 3:
        return 0.66
    if n == 4:
        return 0.75
    if n == 5:
        return 0.8
    return 0.7


_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_POS = {ch: (r, c) for r, row in enumerate(_KEYBOARD_ROWS) for c, ch in enumerate(row)}


def _neighbouring_keys(a: str, b: str) -> bool:
    pa, pb = _KEY_POS.get(a), _KEY_POS.get(b)
    return pa is not None and pb is not None and abs(pa[0] - pb[0]) <= 1 and abs(pa[1] - pb[1]) <= 1


def slip_plausibility(typed: str, word: str) -> float:
    """How likely typing `word` produced `typed` by one slip: 1 for the commonest slips (two letters swapped,
    a letter dropped or doubled, the key next door hit instead), 0.75 for an extra letter from a key next
    door, 0.5 for a stray extra letter or a distant key, 0 when it takes more than one slip."""
    if len(typed) == len(word):
        diff = [i for i in range(len(word)) if typed[i] != word[i]]
        if len(diff) == 1:
            return 1.0 if _neighbouring_keys(typed[diff[0]], word[diff[0]]) else 0.5
        if (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and typed[diff[0]] == word[diff[1]]
            and typed[diff[1]] == word[diff[0]]
        ):
            return 1.0
        return 0.0
    if len(typed) == len(word) - 1:  # a letter dropped
        return 1.0 if any(word[:i] + word[i + 1 :] == typed for i in range(len(word))) else 0.0
    if len(typed) == len(word) + 1:  # a letter added: doubled, or the key next door, or stray
        for i in range(len(typed)):
            if typed[:i] + typed[i + 1 :] == word:
                extra = typed[i]
                near = [typed[j] for j in (i - 1, i + 1) if 0 <= j < len(typed)]
                if extra in near:
                    return 1.0
                return 0.75 if any(_neighbouring_keys(extra, n) for n in near) else 0.5
    return 0.0


def _deletion_keys(word: str, depth: int) -> set[int]:
    """Stable 32-bit hashes of `word` and of every word made by deleting up to `depth` (1 or 2) of its letters
    (process-independent, unlike hash()). Two words within d slips (optimal string alignment: a letter
    added, dropped, changed, or two swapped) share a key with at most d deletions from each.

    Made for every query word, so done the cheap way: an ASCII word (nearly all, once folded) is cut as bytes
    (the same bytes its letters encode to), each pair of deletions made once, the hashes taken in C."""
    if word.isascii():
        return _keys(word.encode("ascii"), depth)
    return {zlib.crc32(k.encode("utf-8")) for k in _deletions(word, depth)}


def _keys(word: bytes, depth: int) -> set[int]:
    n = len(word)
    keys = {word}
    keys.update([word[:i] + word[i + 1 :] for i in range(n)])
    if depth >= 2:
        keys.update([word[:i] + word[i + 1 : j] + word[j + 1 :] for i in range(n) for j in range(i + 1, n)])
    keys.discard(b"")
    return set(map(zlib.crc32, keys))


def _deletions(word: str, depth: int) -> set[str]:
    n = len(word)
    keys = {word}
    keys.update(word[:i] + word[i + 1 :] for i in range(n))
    if depth >= 2:
        keys.update(word[:i] + word[i + 1 : j] + word[j + 1 :] for i in range(n) for j in range(i + 1, n))
    keys.discard("")
    return keys


def sorted_unique(ids: np.ndarray) -> np.ndarray:
    """np.unique for the short id arrays of one query, without its overhead (a sort and a neighbour test)."""
    if len(ids) < 2:
        return ids
    ordered = np.sort(ids)
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _slips_allowed(n: int) -> int:
    """Most slips a typo of an n-letter query word may have against any vocabulary word (see typo_cutoff):
    two from six letters on (a longer word allows more), one below."""
    return 2 if n >= 6 else 1


def csr(
    groups: Sequence[Sequence[int]] | np.ndarray, n_groups: int, members: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(ptr, rows): rows[ptr[g]:ptr[g + 1]] are the members of group g, in order. `groups` gives each member's
    group (an array), members default to 0..len-1."""
    group_of = np.asarray(groups, dtype=np.int64)
    order = np.argsort(group_of, kind="stable")
    rows = (order if members is None else members[order]).astype(np.int32)
    ptr = np.searchsorted(group_of[order], np.arange(n_groups + 1)).astype(np.int64)
    return ptr, rows


def gather(ptr: np.ndarray, rows: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The concatenated members of `groups` (a CSR gather; slices for a few groups, else without a loop)."""
    if len(groups) <= 16:
        bounds = [(int(ptr[g]), int(ptr[g + 1])) for g in groups.tolist()]
        parts = [rows[a:b] for a, b in bounds if b > a]
        if not parts:
            return _EMPTY_IDS
        return parts[0] if len(parts) == 1 else np.concatenate(parts)
    starts = ptr[groups]
    counts = ptr[groups + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return _EMPTY_IDS
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    return rows[offsets + np.arange(total)]


class Vocabulary:
    """Every distinct word of every name (people's and schools'), sorted, with the typo index: shared by the
    spaces, so a query word's typos are looked up once for people and schools alike."""

    def __init__(self, words: Iterable[str]):
        self.words: list[str] = sorted(set(words))
        v = len(self.words)
        self.lengths = np.array([len(t) for t in self.words] + [1], dtype=np.float32)
        # The vocabulary by length, so the wide typo fallback compares only words of a possible length.
        self.len_order = np.array(sorted(range(v), key=lambda i: (len(self.words[i]), self.words[i])), dtype=np.int32)
        self.len_sorted = np.array([len(self.words[i]) for i in self.len_order], dtype=np.int32)
        keys: list[int] = []
        owners: list[int] = []
        for i, word in enumerate(self.words):
            # A two-slip match needs a word of five letters or more (a query of six or more, see typo_cutoff).
            for key in _deletion_keys(word, 2 if len(word) >= 5 else 1):
                keys.append(key)
                owners.append(i)
        order = np.argsort(np.array(keys, dtype=np.uint32), kind="stable")
        self.del_keys = np.array(keys, dtype=np.uint32)[order]
        self.del_words = np.array(owners, dtype=np.int32)[order]
        self._init_caches()

    def _init_caches(self) -> None:
        self._cache: dict[str, WordMatches] = {}

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_cache", None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._init_caches()

    def __len__(self) -> int:
        return len(self.words)

    def id_of(self, word: str) -> int | None:
        i = bisect.bisect_left(self.words, word)
        return i if i < len(self.words) and self.words[i] == word else None

    def prefix_range(self, word: str) -> tuple[int, int]:
        """Vocabulary words starting with `word`: a contiguous slice [lo, hi) of the sorted vocabulary."""
        lo = bisect.bisect_left(self.words, word)
        return lo, bisect.bisect_left(self.words, word + "\uffff", lo)

    def typos(self, word: str) -> WordMatches:
        """(ids, similarity before the commonness tie-break) of words one slip from `word` (two from six
        letters, the rarer two-slip words looked for only when nearer ones score nothing; three in a word of
        ten letters or more only when fewer find nothing); cached per word."""
        cached = _lru_get(self._cache, word)
        if cached is None:
            cached = self._typos(word)
            _lru_put(self._cache, word, cached)
        return cached

    def _near(self, word: str, depth: int) -> np.ndarray:
        """Vocabulary ids that share a deletion key with `word` cut `depth` times (1 or 2): with depth 2 every
        word as many slips away as its length allows (two from six letters), with depth 1 every word one slip
        away and most two away; a few more besides, which the scoring then drops."""
        if not len(self.del_keys):
            return _EMPTY_IDS
        probe = np.fromiter(_deletion_keys(word, depth), dtype=np.uint32)
        left = np.searchsorted(self.del_keys, probe, "left")
        right = np.searchsorted(self.del_keys, probe, "right")
        hit = right > left
        if not hit.any():
            return _EMPTY_IDS
        lo, hi = left[hit], right[hit]
        if len(lo) == 1:
            return self.del_words[int(lo[0]) : int(hi[0])]
        counts = hi - lo
        starts = lo - np.concatenate(([0], np.cumsum(counts)[:-1]))
        return sorted_unique(self.del_words[np.repeat(starts, counts) + np.arange(int(counts.sum()))])

    def _typos(self, word: str) -> WordMatches:
        n = len(word)
        if n < 3 or not self.words:
            return _EMPTY_IDS, _EMPTY_VALUES
        cutoff = typo_cutoff(word)
        lo_len, hi_len = math.floor(n * cutoff), math.ceil(n / cutoff)
        # One deletion from the query first (with the vocabulary's own one or two, that reaches every word one
        # slip away and many two away); the query's second deletions only when nothing within reach scores.
        for depth in range(1, _slips_allowed(n) + 1):
            ids = self._near(word, depth)
            if len(ids):
                lens = self.lengths[ids]
                ids = ids[(lens >= lo_len) & (lens <= hi_len)]
            choices = [self.words[i] for i in ids.tolist()]
            scores = _osa(word, choices, cutoff)
            hits = np.flatnonzero(scores)
            if len(hits):
                break
        if not len(hits) and n >= 10:
            # Three slips in a long word: compare with every word of a possible length (rare: the old scan).
            lo = bisect.bisect_left(self.len_sorted, lo_len)
            hi = bisect.bisect_right(self.len_sorted, hi_len)
            if hi <= lo:
                return _EMPTY_IDS, _EMPTY_VALUES
            ids = self.len_order[lo:hi]
            choices = [self.words[i] for i in ids.tolist()]
            scores = _osa(word, choices, cutoff)
            hits = np.flatnonzero(scores)
        if not len(hits):
            return _EMPTY_IDS, _EMPTY_VALUES
        hit_words = [choices[h] for h in hits.tolist()]
        ids = ids[hits].astype(np.int32)
        # Equal edit counts are told apart by Jaro-Winkler, which favours a shared start and a swap over a
        # different letter ("tarvis": Travis before Jarvis) ...
        jw = process.cdist([word], hit_words, scorer=JaroWinkler.normalized_similarity, dtype=np.float32, workers=1)[0]
        # ... then by how people actually mistype (a swap, a dropped or doubled letter, the key next door);
        # each space adds how common the word is among its names (a slip more likely came from a common name).
        # (Only a word one slip away can score here: slip_plausibility is 0 for more, so those are not asked.)
        hit_scores = scores[hits]
        edits = np.rint((1.0 - hit_scores) * np.maximum(self.lengths[ids], n))
        slips = np.zeros(len(hit_words), dtype=np.float32)
        for j in np.flatnonzero(edits == 1).tolist():
            slips[j] = slip_plausibility(word, hit_words[j])
        values = hit_scores * (TYPO_SCALE - TIE_BREAK_TOTAL) + jw * TIE_JARO + slips * TIE_SLIP
        order = np.argsort(ids, kind="stable")
        return ids[order], values[order].astype(np.float32)


def _lru_get(cache: dict[str, WordMatches], key: str) -> WordMatches | None:
    value = cache.pop(key, None)
    if value is not None:
        cache[key] = value  # most recently used last
    return value


def _lru_put(cache: dict[str, WordMatches], key: str, value: WordMatches) -> None:
    if len(cache) >= WORD_CACHE:
        # Forget the least recently used quarter (dicts keep insertion order).
        for stale in list(cache)[: WORD_CACHE // 4]:
            del cache[stale]
    cache[key] = value


class WordSpace:
    """Names of one kind of entry over the shared vocabulary, with postings."""

    def __init__(
        self,
        name_tokens: Sequence[Sequence[tuple[str, float]]],
        context_tokens: Sequence[Sequence[str]] | None,
        vocabulary: Vocabulary,
    ):
        self.vocabulary = vocabulary
        self.vocab = vocabulary.words
        v = len(self.vocab)
        self.pad = v
        self.lengths = vocabulary.lengths
        ids = vocabulary.id_of
        n = len(name_tokens)
        width = max((len(t) for t in name_tokens), default=1) or 1
        self.tokmat = np.full((n, width), v, dtype=np.int32)
        self.wmat = np.zeros((n, width), dtype=np.float32)
        self.present = np.zeros(v + 1, dtype=bool)  # words of this space's names (or context)
        post_word: list[int] = []
        post_row: list[int] = []
        for row, toks in enumerate(name_tokens):
            seen: set[int] = set()
            for col, (tok, weight) in enumerate(toks):
                tid = ids(tok)
                assert tid is not None, tok
                self.tokmat[row, col] = tid
                self.wmat[row, col] = weight
                if tid not in seen:
                    post_word.append(tid)
                    post_row.append(row)
                    seen.add(tid)
        self.wsum = np.maximum(self.wmat.sum(axis=1), 1e-6)
        self.tokmat, self.wmat = np.ascontiguousarray(self.tokmat.T), np.ascontiguousarray(self.wmat.T)
        self.ctxmat: np.ndarray | None = None
        if context_tokens is not None:
            cwidth = max((len(t) for t in context_tokens), default=1) or 1
            self.ctxmat = np.full((n, cwidth), v, dtype=np.int32)
            for row, ctx in enumerate(context_tokens):
                for col, tok in enumerate(ctx):
                    tid = ids(tok)
                    assert tid is not None, tok
                    self.ctxmat[row, col] = tid
            self.present[self.ctxmat.ravel()] = True
            self.ctxmat = np.ascontiguousarray(self.ctxmat.T)
        self.present[self.tokmat.ravel()] = True
        self.present[v] = False
        self.post_ptr, self.post_rows = csr(np.array(post_word, dtype=np.int64), v, np.array(post_row, dtype=np.int32))
        self.df = np.append(np.diff(self.post_ptr), 0).astype(np.int64)
        self.commonness = (np.log1p(self.df) / max(np.log1p(self.df.max(initial=0)), 1.0)).astype(np.float32)
        # Rows given a word after the build (replace_row): word id -> rows, searched besides post_rows.
        self.extra_postings: dict[int, list[int]] = {}
        self._init_caches()

    def _init_caches(self) -> None:
        self._cache: dict[str, WordMatches] = {}

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_cache", None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._init_caches()

    def replace_row(self, row: int, name_tokens: Sequence[tuple[str, float]], context_tokens: Sequence[str]) -> bool:
        """Give entry `row` new words in place; False when a word is new to the vocabulary or the row is
        too narrow (the caller then rebuilds). The row's old postings stay: scoring reads the words from
        `tokmat`, so an old word only makes the row a candidate that then scores low."""
        index = {w: self.vocabulary.id_of(w) for w in [t for t, _w in name_tokens] + list(context_tokens)}
        if any(i is None for i in index.values()) or len(name_tokens) > self.tokmat.shape[0]:
            return False
        if self.ctxmat is not None and len(context_tokens) > self.ctxmat.shape[0]:
            return False
        self.tokmat[:, row] = self.pad
        self.wmat[:, row] = 0.0
        for col, (tok, weight) in enumerate(name_tokens):
            tid = int(index[tok])  # type: ignore[arg-type]
            self.tokmat[col, row] = tid
            self.wmat[col, row] = weight
            self.present[tid] = True
            rows = self.extra_postings.setdefault(tid, [])
            if row not in rows:
                rows.append(row)
        self.wsum[row] = max(float(self.wmat[:, row].sum()), 1e-6)
        if self.ctxmat is not None:
            self.ctxmat[:, row] = self.pad
            for col, tok in enumerate(context_tokens):
                tid = int(index[tok])  # type: ignore[arg-type]
                self.ctxmat[col, row] = tid
                self.present[tid] = True
        self._cache.clear()
        return True

    # --- per query word ---------------------------------------------------------------------------

    def word_matches(self, word: str) -> WordMatches:
        """Vocabulary words of this space `word` may stand for: (ids, similarity), exact, prefix or typo."""
        cached = _lru_get(self._cache, word)
        if cached is None:
            cached = self._word_matches(word)
            _lru_put(self._cache, word, cached)
        return cached

    def _word_matches(self, word: str) -> WordMatches:
        ids, values = self.vocabulary.typos(word)
        if len(ids):
            mine = self.present[ids]
            ids, values = ids[mine], values[mine] + self.commonness[ids[mine]] * TIE_COMMON
        lo, hi = self.vocabulary.prefix_range(word)
        if hi > lo:
            if len(word) == 1:
                prefix = np.full(hi - lo, INITIAL_SIM, dtype=np.float32)
            else:
                # Closer in length first; among equal lengths, the commoner word ("dea": Dean before Deal).
                prefix = np.minimum(
                    PREFIX_FLOOR + 0.08 * (len(word) / self.lengths[lo:hi]) + 0.004 * self.commonness[lo:hi], 0.98
                ).astype(np.float32)
                if len(ids) and len(word) >= 4:
                    # The word is also one slip from a whole name. A longer name it starts keeps its place
                    # only if it is the commoner: "thom" is Thomas typed in part, but "tatt" more likely
                    # Taitt mistyped than the start of Tatters. The rest compete as typos would.
                    rarer = self.commonness[lo:hi] <= self.commonness[ids].max()
                    prefix = np.where(rarer, TYPO_SCALE * (len(word) / self.lengths[lo:hi]), prefix).astype(np.float32)
            exact = self.vocab[lo] == word
            if exact:
                prefix[0] = EXACT_SIM
            span = np.arange(lo, hi, dtype=np.int32)
            if len(ids):
                inside = ids < hi  # typo ids are sorted; those in [lo, hi) raise the prefix value
                inside &= ids >= lo
                if inside.any():
                    at = ids[inside] - lo
                    prefix[at] = np.maximum(prefix[at], values[inside])
                    if exact:
                        prefix[0] = EXACT_SIM
                    ids, values = ids[~inside], values[~inside]
                keep = self.present[lo:hi]
                all_ids = np.concatenate((span[keep], ids))
                all_values = np.concatenate((prefix[keep], values))
                order = np.argsort(all_ids, kind="stable")
                return all_ids[order], all_values[order]
            keep = self.present[lo:hi]
            return span[keep], prefix[keep]
        return ids, values

    # --- per query ----------------------------------------------------------------------------------

    def similarities(self, matches: Sequence[WordMatches]) -> np.ndarray:
        """(len(words), V + 1) similarities of each query word to every vocabulary word."""
        sims = np.zeros((len(matches), len(self.vocab) + 1), dtype=np.float32)
        for i, (ids, values) in enumerate(matches):
            if len(ids):
                sims[i, ids] = values
        return sims

    def candidates(
        self, matches: Sequence[WordMatches], words: Sequence[str], alive: np.ndarray | None = None
    ) -> np.ndarray:
        """Entries sharing a matched word with the query, taken from the query's rarest words.

        Words are taken rarest first while their postings fit a budget (a word with very few postings
        always comes in); an initial only when nothing else matched. Scoring then looks at every query
        word for each candidate, so a common word still counts, it just does not pull in entries.
        """
        per_word: list[tuple[int, np.ndarray]] = []
        fallback: list[tuple[int, np.ndarray]] = []
        for (ids, _values), word in zip(matches, words):
            total = int(self.df[ids].sum()) if len(ids) else 0
            if total == 0:
                continue
            (fallback if len(word) == 1 else per_word).append((total, ids))
        per_word.sort(key=lambda p: p[0])
        chosen: list[np.ndarray] = []
        spent = 0
        for total, ids in per_word:
            if chosen and total > ALWAYS_POSTINGS and spent + total > POSTINGS_BUDGET:
                continue
            chosen.append(ids)
            spent += total
        if not chosen and fallback:
            chosen = [min(fallback, key=lambda p: p[0])[1]]
        if not chosen:
            return _EMPTY_IDS
        words_ids = chosen[0] if len(chosen) == 1 else np.concatenate(chosen)
        cand = gather(self.post_ptr, self.post_rows, words_ids)
        if self.extra_postings:
            extra = [r for t in words_ids.tolist() for r in self.extra_postings.get(t, ())]
            if extra:
                cand = np.unique(np.concatenate((cand, np.array(extra, dtype=np.int32))))
        if len(chosen) > 1 or len(words_ids) > 1:
            cand = sorted_unique(cand)
        if alive is not None and len(cand):
            cand = cand[alive[cand]]
        if len(cand) > CANDIDATE_CAP:
            # Only common words matched ("primary"): keep the entries with the shortest names, which are
            # the ones such a query covers best and so would rank first anyway.
            cand = np.sort(cand[np.argpartition(self.wsum[cand], CANDIDATE_CAP)[:CANDIDATE_CAP]])
        return cand

    def score(
        self, sims: np.ndarray, qweights: np.ndarray, cand: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(score 0-100, tier 0-3, name_hit, base) for each candidate."""
        toks = self.tokmat.take(cand, axis=1)  # (W, C)
        gathered = sims.take(toks, axis=1)  # (m, W, C)
        best = gathered.max(axis=1)  # (m, C): each query word's best among the entry's words
        name_hit = best.max(axis=0) > 0
        if self.ctxmat is not None:
            ctx_best = sims.take(self.ctxmat.take(cand, axis=1), axis=1).max(axis=1) * CONTEXT_SCALE
            best = np.maximum(best, np.minimum(ctx_best, 0.97))
        base = (best * qweights[:, None]).sum(axis=0) / qweights.sum()
        cover = (gathered.max(axis=0) * self.wmat.take(cand, axis=1)).sum(axis=0) / self.wsum[cand]
        score = 100.0 * base * (0.75 + 0.25 * np.minimum(cover, 1.0))
        worst = best.min(axis=0)
        tier = np.where(worst >= EXACT_SIM, 0, np.where(worst >= PREFIX_FLOOR, 1, np.where(worst > 0, 2, 3)))
        return score, tier, name_hit, base


def _osa(word: str, choices: list[str], cutoff: float) -> np.ndarray:
    if not choices:
        return _EMPTY_VALUES
    return process.cdist(
        [word], choices, scorer=OSA.normalized_similarity, score_cutoff=cutoff - 1e-4, dtype=np.float32, workers=1
    )[0]
