"""Titles that read as instructions, and names that the journey's titles do not support.

Item titles are untrusted. Two defences that do not depend on a list of known attack phrasings:

* `is_instruction(text)` reads the *structure* of each clause after normalising look-alike
  characters (NFKC, zero-width characters removed, Cyrillic/Greek homoglyphs mapped to Latin):
  a chat-template marker or role prefix; or a clause that starts with a directive verb (the
  imperative, optionally after "please" or "you must") and either refers to the model's task
  (this journey/list, the instructions, the model) or restricts the output ("only", "just",
  "with:"); or a clause that speaks of the output (name, answer, words) of this journey. The
  small lexicons are grammatical classes (directive verbs, output nouns, restrictors, task
  referents) in English, French, German, Spanish, Italian and Portuguese, not attack phrases.
* `NameSupport` checks a name against the journey's trusted titles: each content word should
  appear in, or be close in embedding to, at least two titles; a word that only one title carries
  (the signature of an injected payload) rejects the name, and so does a name most of whose
  content words no two titles support.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

import numpy as np

# Cyrillic and Greek letters that look like Latin ones (lower case; text is lowered first)
_CONFUSABLE = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ɡ": "g", "һ": "h",
    "ӏ": "l", "ԛ": "q", "ԝ": "w", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
    "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ϲ": "c", "ѵ": "v",
})
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d"
                                    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063"
                                    "\u2064\ufeff"))

_TEMPLATE = re.compile(
    r"<\|[^|>]{1,40}\|>|\[/?inst\]|<</?sys>>|</?s>|<start_of_turn>|<end_of_turn>|###\s*(instruction|response|system)"
    r"|(^|[\n.!?])\s*(system|assistant|user|human|ai|bot)\s*:", re.IGNORECASE)
_CLAUSE = re.compile(r"[\n.!?;|()\[\]{}<>«»“”\"„–—]+|\s-\s|:")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")

# directive verbs in the imperative (en, fr, de, es, it, pt)
DIRECTIVE = frozenset("""
name call title label rename respond reply answer say output print write return type repeat give tell
ignore disregard forget override use generate produce state
réponds répondez nomme nommez appelle appelez dis dites écris écrivez ignore ignorez oublie oubliez
donne donnez affiche affichez utilise utilisez intitule intitulez
antworte antworten nenne nennen benenne benennen schreibe schreib schreiben sag sage sagen gib geben
ignoriere ignorieren vergiss vergessen verwende verwenden gebe
responde responda contesta conteste di diga escribe escriba llama llame nombra nombre ignora ignore
olvida olvide da dé usa use pon ponga titula
rispondi risponda scrivi scriva chiama chiami dimmi dì ignora dimentica usa dai
responda escreva diga chame nomeie ignore esqueça use dê
""".split())
# words for the model's output
OUTPUT = frozenset("""
name names answer reply response output word words title label
nom réponse mots mot titre étiquette
name antwort wort wörter titel ausgabe bezeichnung
nombre respuesta palabra palabras título etiqueta
nome risposta parola parole titolo
nome resposta palavra palavras título
""".split())
# words that restrict the output to a payload
RESTRICT = frozenset("""
only just exactly solely verbatim
seulement uniquement exactement
nur genau ausschließlich lediglich
solo sólo solamente únicamente exactamente
soltanto esattamente
somente apenas exatamente
""".split())
# what the task is about: the interest being named, the instructions, the model
TASK = frozenset("""
journey interest interests collection playlist category cluster topic instructions instruction prompt
previous above model assistant ai chatbot system
parcours intérêt collection consignes précédentes précédents modèle assistant
interesse sammlung anweisungen anweisung vorherigen obigen modell assistent thema
interés colección instrucciones anteriores modelo asistente tema
interesse collezione istruzioni precedenti modello assistente
interesse coleção instruções anteriores modelo assistente
""".split())
DEICTIC = frozenset("this these the your ce cet cette ces votre ton ta dies diese dieser dieses diesen deine ihre "
                    "este esta estos estas su tu questo questa il la lo seu sua".split())
LEAD = frozenset("please now then and also just simply kindly pls plz bitte jetzt und dann por favor ahora y "
                 "s'il vous plaît maintenant et puis per ora e agora you must should will need to have vous "
                 "devez du musst sie müssen debes debe tienes que devi deve".split())
BOT_SUFFIXES = ("bot", "gpt", "llm")
# task nouns that also name ordinary things: they count only after a deictic ("this collection")
NEEDS_DEICTIC = frozenset("""
journey interest interests collection playlist category cluster topic model system assistant
parcours intérêt modèle interesse sammlung modell thema interés colección modelo tema collezione modello
coleção
""".split())
WITH = frozenset("with avec mit con com".split())


def normalize(text: str) -> str:
    """NFKC, lower case, invisible characters removed, look-alike letters mapped to Latin."""
    t = unicodedata.normalize("NFKC", str(text)).translate(_INVISIBLE).lower()
    return t.translate(_CONFUSABLE)


def _task_ref(words: Sequence[str]) -> bool:
    for k, w in enumerate(words):
        if w in TASK and w not in NEEDS_DEICTIC:
            return True
        if w in TASK and k and words[k - 1] in DEICTIC:  # "this collection", not "stamp collection"
            return True
        if w.endswith(BOT_SUFFIXES) and len(w) > 3:
            return True
    return False


def clause_is_instruction(clause: str, followed_by_colon: bool = False) -> bool:
    words = [w.strip("'") for w in _WORD.findall(clause)]
    if not words:
        return False
    k = 0
    while k < len(words) - 1 and words[k] in LEAD:
        k += 1
    directive = words[k] in DIRECTIVE
    rest = words[k + 1:]
    if directive and (_task_ref(rest) or RESTRICT & set(rest)):
        return True
    if directive and followed_by_colon and (not rest or WITH & set(rest) or rest[-1] in OUTPUT):
        return True  # "Reply with: X", "Answer: X", "Give the name: X"
    if OUTPUT & set(words) and _task_ref(words):  # "the name of this interest is ..."
        return True
    if words[0] in ("you", "you're", "tu", "vous", "du") and _task_ref(words):  # "you are now EvilBot"
        return True
    return False


def is_instruction(text: str) -> bool:
    """Does the text read as an instruction addressed to the model?"""
    t = normalize(text)
    if _TEMPLATE.search(t):
        return True
    pos = 0
    for m in list(_CLAUSE.finditer(t)) + [None]:
        end = m.start() if m else len(t)
        if clause_is_instruction(t[pos:end], followed_by_colon=bool(m and m.group().strip() == ":")):
            return True
        pos = m.end() if m else len(t)
    return False


# -- name support -------------------------------------------------------------------------------
CLOSE = 0.3  # cosine at which a word counts as close to a title (MiniLM; see docs/injection.md)
# cosine of a title with the mean of the journey's other titles at which it counts as on topic, so
# that a word only it carries may still name the journey (MiniLM: a quarter of Debian blends titles
# fall below 0.40; every injected title of the corpus falls below 0.36, plain spam at -0.01)
ON_TOPIC = 0.4


def _stem(w: str) -> str:
    """A crude stem, for counting titles that share a word: 'openings' and 'opening' -> 'open'."""
    for _ in range(2):
        for suffix in ("ing", "ers", "er", "es", "s", "ed"):
            if w.endswith(suffix) and len(w) - len(suffix) >= 4:
                w = w[: -len(suffix)]
                break
    return w


class NameSupport:
    """How many of the trusted titles support each word of a name (lexically, or in embedding
    when an `embed` function is given); vectors are computed lazily, once per journey."""

    def __init__(self, titles: Sequence[str], embed: Callable[[list[str]], np.ndarray] | None = None):
        from journeys.safety import words

        self.titles = list(dict.fromkeys(titles))
        self.stems = [{_stem(w) for w in words(t)} for t in self.titles]
        self.embed = embed
        self._title_vecs: np.ndarray | None = None

    def lexical(self, word: str) -> int:
        s = _stem(word)
        return sum(1 for st in self.stems if s in st)

    def close(self, words: list[str]) -> list[int]:
        if self.embed is None or not words or not self.titles:
            return [0] * len(words)
        if self._title_vecs is None:
            self._title_vecs = np.asarray(self.embed(self.titles), dtype=np.float32)
        sims = np.asarray(self.embed(words), dtype=np.float32) @ self._title_vecs.T
        return [int(n) for n in (sims >= CLOSE).sum(axis=1)]

    def on_topic(self, word: str) -> bool:
        """Is the one title that carries `word` close to the rest of the journey (not a stray)?"""
        if self.embed is None or len(self.titles) < 3:
            return False
        s = _stem(word)
        carriers = [k for k, st in enumerate(self.stems) if s in st]
        if len(carriers) != 1:
            return False
        if self._title_vecs is None:
            self._title_vecs = np.asarray(self.embed(self.titles), dtype=np.float32)
        k = carriers[0]
        rest = np.delete(self._title_vecs, k, axis=0).mean(axis=0)
        norm = float(np.linalg.norm(rest))
        return norm > 0 and float(self._title_vecs[k] @ rest) / norm >= ON_TOPIC

    def check(self, content_words: Sequence[str]) -> str | None:
        """The reason the titles do not support these name words, or None."""
        words = list(dict.fromkeys(content_words))
        if not words or len(self.titles) < 2:
            return None
        lex = {w: self.lexical(w) for w in words}
        weak = [w for w in words if lex[w] < 2]
        sem = dict(zip(weak, self.close(weak)))
        supported = [w for w in words if lex[w] >= 2 or sem.get(w, 0) >= 2
                     or (lex[w] == 1 and self.on_topic(w))]
        single = [w for w in words if lex[w] == 1 and w not in supported]
        if single:
            return f"'{single[0]}' comes from one title only; name what several titles share"
        if 2 * len(supported) < len(words):
            return "most words must describe several of the titles"
        return None
