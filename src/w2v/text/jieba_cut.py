"""jieba's accurate mode (`Tokenizer.cut`, `cut_all=False`) again, token for token, in less time.

Segmentation is most of the pipeline's time on a large corpus (with jieba itself, about 60 % of a
100 M-token run), and jieba spends it in generic Python: a dict of lists for the word graph, a
generator of tuples and a `log` per candidate word for the best route, and a hidden Markov model
decoded with per-step dicts and copied path lists. `JiebaCut` runs the same algorithm on the same
dictionary with the same float operations in the same order, so its tokens are jieba's, ties too:

- the route: for each start, candidate ends in increasing order, score `(log(freq or 1) - log(total))
  + best(end + 1)` with that first term precomputed per dictionary word; the best score wins, the
  later end on a tie (what `max` over `(score, end)` tuples picks);
- the HMM for runs of characters the dictionary does not join: Viterbi over B/M/E/S unrolled, with
  back pointers instead of copied paths; ties go to the larger state letter, as in jieba's `max`.

`tests/test_text_jieba_cut.py` checks it against jieba on both novels shipped with the repository
(with their user dictionaries, with and without the HMM), on awkward and random text, and on exact
ties. It reads the tokenizer's dictionary when built, so build it after every `add_word`.
"""

from __future__ import annotations

import re
from math import log

# jieba 0.42's patterns (jieba/__init__.py and jieba/finalseg/__init__.py).
_RE_HAN = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)")  # blocks the dictionary cuts
_RE_SKIP = re.compile("(\r\n|\\s)")
_RE_ENG = re.compile("[a-zA-Z0-9]")
_RE_HMM_HAN = re.compile("([\u4E00-\u9FD5]+)")  # the HMM's own blocks inside a run
_RE_HMM_SKIP = re.compile("([a-zA-Z0-9]+(?:\\.\\d+)?%?)")
_ABSENT = object()  # not a dictionary key: no longer word starts with this fragment
_STATE = {"B": 0, "M": 1, "E": 2, "S": 3}  # a tag's place in the Viterbi's per-step tuples


class JiebaCut:
    """`cut(sentence, hmm)` gives the tokens of `tokenizer.cut(sentence, HMM=hmm)`, as a list."""

    def __init__(self, tokenizer) -> None:
        from jieba import finalseg

        tokenizer.check_initialized()
        self._freq: dict[str, int] = tokenizer.FREQ
        log_total = log(tokenizer.total)
        self._log_total = log_total
        # One lookup per step of the route: every dictionary key (words and their prefixes) to the
        # word's `log(freq) - log(total)`, or None for a prefix that is not itself a word.
        self._score: dict[str, float | None] = {
            word: log(count) - log_total if count else None for word, count in tokenizer.FREQ.items()
        }
        # jieba's del_word (a user-dictionary count of 0) keeps the HMM from making that word.
        self._force_split = finalseg.Force_Split_Words
        start, trans, emit = finalseg.start_P, finalseg.trans_P, finalseg.emit_P
        low = finalseg.MIN_FLOAT  # jieba's log probability of an emission its model never saw
        self._start = (start["B"], start["M"], start["E"], start["S"])
        self._trans = trans
        # A character's four emission log probabilities in one lookup.
        self._emit = {
            char: (emit["B"].get(char, low), emit["M"].get(char, low), emit["E"].get(char, low), emit["S"].get(char, low))
            for char in set().union(*emit.values())
        }
        self._emit_unseen = (low, low, low, low)

    def cut(self, sentence: str, hmm: bool = True) -> list[str]:
        out: list[str] = []
        cut_block = self._cut_block_hmm if hmm else self._cut_block_plain
        for block in _RE_HAN.split(sentence):
            if not block:
                continue
            if _RE_HAN.match(block):
                cut_block(block, out)
            else:
                for piece in _RE_SKIP.split(block):
                    if _RE_SKIP.match(piece):
                        out.append(piece)
                    else:
                        out.extend(piece)
        return out

    def _route(self, sentence: str) -> list[int]:
        """For each start index, one past the end of the word the best route takes from there."""
        table = self._score
        n = len(sentence)
        best = [0.0] * (n + 1)
        stop = [0] * (n + 1)
        for start in range(n - 1, -1, -1):
            top_score = top_end = None
            end = start
            frag = sentence[start]
            score = table.get(frag, _ABSENT)
            while score is not _ABSENT:
                if score is not None:
                    score += best[end + 1]
                    if top_score is None or score >= top_score:
                        top_score, top_end = score, end
                end += 1
                if end == n:
                    break
                frag = sentence[start:end + 1]
                score = table.get(frag, _ABSENT)
            if top_score is None:  # no dictionary word starts here: the character alone, count 1
                top_score, top_end = best[start + 1] - self._log_total, start
            best[start] = top_score
            stop[start] = top_end + 1
        return stop

    def _cut_block_plain(self, sentence: str, out: list[str]) -> None:
        """jieba's `__cut_DAG_NO_HMM`: route words, runs of single ASCII letters or digits joined."""
        stop = self._route(sentence)
        x, n, buf = 0, len(sentence), ""
        while x < n:
            y = stop[x]
            word = sentence[x:y]
            if y - x == 1 and _RE_ENG.match(word):
                buf += word
            else:
                if buf:
                    out.append(buf)
                    buf = ""
                out.append(word)
            x = y
        if buf:
            out.append(buf)

    def _cut_block_hmm(self, sentence: str, out: list[str]) -> None:
        """jieba's `__cut_DAG`: route words; runs of single characters go to the HMM unless a word."""
        stop = self._route(sentence)
        x, n, start = 0, len(sentence), -1  # start: where the current run of single characters began
        while x < n:
            y = stop[x]
            if y - x == 1:
                if start < 0:
                    start = x
            else:
                if start >= 0:
                    self._flush(sentence[start:x], out)
                    start = -1
                out.append(sentence[x:y])
            x = y
        if start >= 0:
            self._flush(sentence[start:], out)

    def _flush(self, run: str, out: list[str]) -> None:
        if len(run) == 1:
            out.append(run)
        elif not self._freq.get(run):
            self._hmm_cut(run, out)
        else:
            out.extend(run)

    def _hmm_cut(self, run: str, out: list[str]) -> None:
        """jieba's `finalseg.cut`: Chinese stretches through the HMM, letters and numbers whole."""
        for block in _RE_HMM_HAN.split(run):
            if _RE_HMM_HAN.match(block):
                for word in self._viterbi_words(block):
                    if word in self._force_split:
                        out.extend(word)
                    else:
                        out.append(word)
            else:
                out.extend(piece for piece in _RE_HMM_SKIP.split(block) if piece)

    def _viterbi_words(self, chars: str) -> list[str]:
        """Words of the most likely B/M/E/S tagging (jieba's `finalseg.__cut`)."""
        words = []
        begin = following = 0
        for i, tag in enumerate(self._viterbi(chars)):
            if tag == "B":
                begin = i
            elif tag == "E":
                words.append(chars[begin:i + 1])
                following = i + 1
            elif tag == "S":
                words.append(chars[i])
                following = i + 1
        if following < len(chars):
            words.append(chars[following:])
        return words

    def _viterbi(self, chars: str) -> list[str]:
        """jieba's `finalseg.viterbi`, its four states unrolled. Each state's score is
        `(previous + transition) + emission`, the two allowed previous states compared as jieba's
        `max` over `(score, state)` does (the larger letter wins a tie)."""
        sB, sM, sE, sS = self._start
        emit, unseen = self._emit, self._emit_unseen
        t = self._trans
        bm, be = t["B"]["M"], t["B"]["E"]
        mm, me = t["M"]["M"], t["M"]["E"]
        eb, es = t["E"]["B"], t["E"]["S"]
        sb, ss = t["S"]["B"], t["S"]["S"]
        xB, xM, xE, xS = emit.get(chars[0], unseen)
        vB, vM, vE, vS = sB + xB, sM + xM, sE + xE, sS + xS
        back = []  # per step: the previous state chosen for B, M, E, S
        for c in chars[1:]:
            xB, xM, xE, xS = emit.get(c, unseen)
            # B after E or S
            a, b = vE + eb + xB, vS + sb + xB
            nB, pB = (b, "S") if b >= a else (a, "E")
            # M after M or B
            a, b = vM + mm + xM, vB + bm + xM
            nM, pM = (a, "M") if a >= b else (b, "B")
            # E after B or M
            a, b = vB + be + xE, vM + me + xE
            nE, pE = (b, "M") if b >= a else (a, "B")
            # S after S or E
            a, b = vS + ss + xS, vE + es + xS
            nS, pS = (a, "S") if a >= b else (b, "E")
            back.append((pB, pM, pE, pS))
            vB, vM, vE, vS = nB, nM, nE, nS
        tag = "S" if vS >= vE else "E"
        tags = [tag]
        for step in reversed(back):
            tag = step[_STATE[tag]]
            tags.append(tag)
        tags.reverse()
        return tags
