"""Dependency heads in attention (Clark et al. 2019, §4): hand-built attention with known answers, equality
with a re-implementation of the authors' notebook, and every architecture."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import bertology as bt
from bertology.analyses.syntax import DependencyHeads, dependency_heads, save_dependency_head_figures
from bertology.analyses.syntax.dependency_heads import (
    HeadCounter,
    _sentence_tensors,
    head_predictions,
    maximum_spanning_tree,
    offset_baseline,
    without_self_and_padding,
    word_attention,
)
from bertology.core.data.conllu import DependencySentence
from bertology.core.errors import InputError
from bertology.core.paths import SHIPPED_DIR

FIXTURE = str(SHIPPED_DIR / "ud_sample.conllu")
module = importlib.import_module("bertology.analyses.syntax.dependency_heads")


def sentence(words: str, heads: list[int], deprels: str, upos: str | None = None) -> DependencySentence:
    split = words.split()
    tags = tuple(upos.split()) if upos else tuple("PUNCT" if w in ".,!" else "X" for w in split)
    return DependencySentence(tuple(split), tags, tags, tuple(heads), tuple(deprels.split()))


# ---------------------------------------------------------------------------------------------------------------
# Word-level attention on a hand-built tensor: "[CLS] a b ##c [SEP]", the word "bc" split in two pieces.

TOKENS = torch.tensor([[.1, .2, .3, .4, .0],
                       [.0, .0, .5, .5, .0],
                       [.0, .2, .2, .2, .4],
                       [.1, .1, .1, .1, .6],
                       [1., .0, .0, .0, .0]])
UNITS = torch.tensor([[2, 0, 1, 1, 3]])   # a -> 0, bc -> 1, [CLS] -> 2, [SEP] -> 3


def test_word_attention_sums_to_split_words_and_averages_from_them():
    words = word_attention(TOKENS[None, None], UNITS, 4, "mean")[0, 0]
    # columns: to "bc" = to "b" + to "##c"; row of "bc" = mean of the rows of "b" and "##c"
    expected = torch.tensor([[0.0, 1.0, 0.0, 0.0],                      # a: .5 + .5 to bc
                             [(.2 + .1) / 2, (.4 + .2) / 2, (0 + .1) / 2, (.4 + .6) / 2],
                             [0.2, 0.7, 0.1, 0.0],                      # [CLS]
                             [0.0, 0.0, 1.0, 0.0]])                     # [SEP]
    torch.testing.assert_close(words, expected)
    first = word_attention(TOKENS[None, None], UNITS, 4, "first")[0, 0]
    torch.testing.assert_close(first[1], torch.tensor([0.2, 0.4, 0.0, 0.4]))
    maximum = word_attention(TOKENS[None, None], UNITS, 4, "max")[0, 0]
    torch.testing.assert_close(maximum[1], torch.tensor([0.2, 0.4, 0.1, 0.6]) / 1.3)
    torch.testing.assert_close(maximum.sum(-1), torch.ones(4))


def test_word_attention_ignores_padding_tokens():
    padded = torch.zeros(1, 1, 7, 7)
    padded[..., :5, :5] = TOKENS
    padded[..., 5:, :] = 9.0                 # padding queries: garbage that must not reach any word
    units = torch.tensor([[2, 0, 1, 1, 3, 4, 4]])
    expected = word_attention(TOKENS[None, None], UNITS, 4)[0, 0]
    torch.testing.assert_close(word_attention(padded, units, 4)[0, 0], expected)


def test_word_attention_rejects_unknown_merge():
    with pytest.raises(InputError, match="from_split"):
        word_attention(TOKENS[None, None], UNITS, 4, "sum")


# ---------------------------------------------------------------------------------------------------------------
# Predictions and per-relation accuracy on hand-built word attention.

# "My sister 's dog barks" (nmod:poss rule) and "Dogs bark ." (padded to 5 words), one layer, two heads.
POSS = sentence("My sister 's dog barks", [2, 4, 2, 5, 0], "nmod:poss nmod:poss case nsubj root")
SHORT = sentence("Dogs bark .", [2, 0, 2], "nsubj root punct")
RELATIONS = {"nmod:poss": 0, "nsubj": 1, "root": 2, "case": 3, "punct": 4}


def hand_attention() -> torch.Tensor:
    """(layer=1, batch=2, heads=2, 5, 5) word attention; head 1 is head 0 transposed."""
    poss = torch.tensor([[.1, .6, .1, .1, .1],    # My -> sister (gold 2: correct)
                         [.1, .1, .7, .05, .05],  # sister -> 's (gold dog); rule: use 's row -> dog
                         [.1, .1, .1, .6, .1],    # 's -> dog (gold sister: wrong)
                         [.1, .1, .1, .1, .6],    # dog -> barks (correct)
                         [.3, .3, .2, .2, .0]])   # barks -> My (ROOT: never correct)
    short = torch.zeros(5, 5)
    short[:3, :3] = torch.tensor([[.2, .7, .1], [.25, .6, .15], [.1, .8, .1]])   # bark: self .6 ignored
    short[3:, :] = 5.0                            # padding rows and columns must never count
    short[:, 3:] = 5.0
    batch = torch.stack([poss, short])
    return torch.stack([batch, batch.transpose(-1, -2)], dim=1)[None]


def test_head_predictions_skip_self_and_padding():
    valid = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    predicted = head_predictions(without_self_and_padding(hand_attention(), valid))   # (2, layer, batch, head, n)
    assert predicted[0, 0, 0, 0].tolist() == [1, 2, 3, 4, 0]
    assert predicted[0, 0, 1, 0, :3].tolist() == [1, 0, 1]        # "bark" -> Dogs (self .6 ignored)
    # the transposed direction of head 1 is head 0's own direction
    assert torch.equal(predicted[1, 0, :, 1], predicted[0, 0, :, 0])


def test_per_relation_accuracy_by_hand_with_the_possessive_rule():
    counter = HeadCounter(1, 2, len(RELATIONS))
    counter.update(hand_attention(), _sentence_tensors([POSS, SHORT], RELATIONS, torch.device("cpu")))
    dep_to_head = counter.correct[0, 0, 0].tolist()
    # nmod:poss: My correct; sister scored by 's -> dog: correct. nsubj: dog -> barks, Dogs -> bark: 2 of 2.
    # root never; case ('s -> dog, gold sister) wrong; punct ". -> bark" correct.
    assert dep_to_head == [2, 2, 0, 0, 1]
    assert counter.correct[1, 0, 1].tolist() == dep_to_head     # head 1 transposed = head 0
    # head->dep of head 0: the word attending most to each word.
    # poss: col0 -> barks(4), col1 -> My(0), col2 -> sister(1), col3 -> 's(2), col4 -> dog(3)
    #   My: 4 vs gold 1 wrong; sister rule (pred 0 < 4): 's prediction 1 vs gold 3: wrong; 's: 1 == gold 1:
    #   correct; dog: 2 vs 4 wrong; root never.  short: col0 -> bark(1), col1 -> .(2), col2 -> bark(1)
    #   Dogs: 1 == gold 1 correct; bark root; ".": 1 == 1 correct.
    assert counter.correct[1, 0, 0].tolist() == [0, 1, 0, 1, 1]


def test_possessive_rule_needs_a_prediction_before_the_last_word():
    # "sister" predicted as the last word: the notebook's guard p < len(words) keeps its own prediction
    words = torch.zeros(1, 1, 1, 5, 5)
    words[..., 1, 4] = 1.0
    words[..., 2, 3] = 1.0               # 's -> dog = sister's gold head, but is not used
    counter = HeadCounter(1, 1, len(RELATIONS))
    counter.update(words, _sentence_tensors([POSS], RELATIONS, torch.device("cpu")))
    assert counter.correct[0, 0, 0, 0] == 0


def test_offset_baseline_by_hand():
    counts = offset_baseline([POSS, SHORT], RELATIONS, offsets=[-3, -1, 1, 2])
    # offset +1: My -> sister ok; sister rule (pred 3 < 5): 's pred dog(4) == 4 ok; 's -> dog wrong; dog -> barks
    # ok; barks -> clipped to 5 (itself) wrong; Dogs -> bark ok; bark -> . wrong; . -> clipped 3 wrong.
    assert counts[2].tolist() == [2, 2, 0, 0, 0]
    # offset -1: My -> 0 = ROOT wrong; sister -> My wrong (rule: 's -> sister wrong); 's -> sister ok; dog -> 's
    # wrong; barks -> dog wrong; Dogs -> ROOT wrong; bark -> Dogs wrong; . -> bark ok.
    assert counts[1].tolist() == [0, 0, 0, 1, 1]
    # offset -3: the first words of a sentence are clipped to 0 = ROOT, which is right for "bark" alone
    assert counts[0].tolist() == [0, 0, 1, 0, 0]


# ---------------------------------------------------------------------------------------------------------------
# Maximum spanning tree: against brute force over Kruskal.

def kruskal(weights: np.ndarray, nodes: list[int]) -> set[frozenset[int]]:
    parent = {node: node for node in nodes}

    def find(node: int) -> int:
        while parent[node] != node:
            node = parent[node]
        return node

    edges = sorted(((weights[i, j], i, j) for i in nodes for j in nodes if i < j), reverse=True)
    tree = set()
    for _, i, j in edges:
        if find(i) != find(j):
            parent[find(i)] = find(j)
            tree.add(frozenset((i, j)))
    return tree


def test_maximum_spanning_tree_matches_kruskal_with_left_out_nodes():
    rng = np.random.default_rng(0)
    raw = rng.random((20, 7, 7))
    weights = raw + raw.transpose(0, 2, 1)
    nodes = rng.random((20, 7)) > 0.25
    parents = maximum_spanning_tree(torch.from_numpy(weights), torch.from_numpy(nodes)).numpy()
    for graph in range(20):
        keep = np.flatnonzero(nodes[graph]).tolist()
        found = {frozenset((child, int(parent))) for child, parent in enumerate(parents[graph]) if parent >= 0}
        assert found == kruskal(weights[graph], keep)
        assert (parents[graph][~nodes[graph]] == -1).all()


# ---------------------------------------------------------------------------------------------------------------
# Equality with a straightforward re-implementation of the authors' procedure.

def reference_word_attention(token_attention: np.ndarray, words_to_tokens: list[list[int]], mode: str) -> np.ndarray:
    """``bpe_utils.get_word_word_attention`` of github.com/clarkkev/attention-analysis (plus a "sum" mutation)."""
    attention = np.array(token_attention)
    not_word_starts = []
    for word in words_to_tokens:
        not_word_starts += word[1:]
    for word in words_to_tokens:
        attention[:, word[0]] = attention[:, word].sum(axis=-1)
    attention = np.delete(attention, not_word_starts, -1)
    for word in words_to_tokens:
        if mode == "mean":
            attention[word[0]] = np.mean(attention[word], axis=0)
        elif mode == "max":
            attention[word[0]] = np.max(attention[word], axis=0)
            attention[word[0]] /= attention[word[0]].sum()
        elif mode == "sum":
            attention[word[0]] = np.sum(attention[word], axis=0)
    return np.delete(attention, not_word_starts, 0)


def reference_predict(attention: np.ndarray, transpose: bool) -> np.ndarray:
    """``attn_head_predictor`` of Syntax_Analysis.ipynb: 1-based predicted heads."""
    attention = np.array(attention)
    if transpose:
        attention = attention.T
    attention[range(attention.shape[0]), range(attention.shape[0])] = 0
    attention = attention[1:-1, 1:-1]
    return np.argmax(attention, axis=-1) + 1


def reference_correct(example: DependencySentence, predictions) -> list[bool]:
    """``evaluate_predictor`` of the notebook, the possessive rule applied to ``poss`` and ``nmod:poss``."""
    words, out = example.words, []
    for i, (p, y, r) in enumerate(zip(predictions, example.heads, example.deprels)):
        is_correct = p == y
        if r in ("poss", "nmod:poss") and p < len(words):
            if i + 1 < len(words) and words[i + 1] in ("'s", "s'"):
                is_correct = predictions[i + 1] == y
        out.append(bool(is_correct))
    return out


def reference_mst_found(attention: np.ndarray, example: DependencySentence) -> tuple[int, int]:
    scores = attention[1:-1, 1:-1] + attention[1:-1, 1:-1].T
    nodes = [i for i, tag in enumerate(example.upos) if tag != "PUNCT"]
    gold = {frozenset((i, example.heads[i] - 1)) for i in nodes
            if example.heads[i] > 0 and example.upos[example.heads[i] - 1] != "PUNCT"}
    return len(kruskal(scores, nodes) & gold), len(gold)


def reference(model: bt.LoadedModel, sentences: list[DependencySentence], mode: str) -> dict[str, np.ndarray]:
    """The notebook's per-head counts, sentence by sentence, from HF attentions with output_attentions=True."""
    relations = sorted({r for s in sentences for r in s.deprels})
    index = {r: i for i, r in enumerate(relations)}
    layers, heads = model.num_layers, model.num_heads
    correct = np.zeros((2, layers, heads, len(relations)), dtype=np.int64)
    baseline = np.zeros((6, len(relations)), dtype=np.int64)
    mst, total = np.zeros((layers, heads), dtype=np.int64), 0
    hf = model.model
    previous = hf.config._attn_implementation
    hf.set_attn_implementation("eager")
    try:
        for example in sentences:
            tokens = [[model.tokenizer.cls_token]] + [model.tokenizer.tokenize(w) for w in example.words] \
                + [[model.tokenizer.sep_token]]
            starts = np.cumsum([0] + [len(t) for t in tokens])
            words_to_tokens = [list(range(starts[i], starts[i + 1])) for i in range(len(tokens))]
            ids = model.tokenizer.convert_tokens_to_ids([t for word in tokens for t in word])
            assert ids == model.tokenizer(example.text)["input_ids"]
            with torch.inference_mode():
                attentions = hf(torch.tensor([ids]), output_attentions=True).attentions
            for layer in range(layers):
                for head in range(heads):
                    words = reference_word_attention(attentions[layer][0, head].numpy(), words_to_tokens, mode)
                    for direction in range(2):
                        hits = reference_correct(example, reference_predict(words, transpose=direction == 1))
                        for hit, relation in zip(hits, example.deprels):
                            correct[direction, layer, head, index[relation]] += hit
                    found, gold = reference_mst_found(words, example)
                    mst[layer, head] += found
            total += gold
            for row, offset in enumerate(range(-3, 3)):
                predictions = [max(0, min(i + offset + 1, len(example.words))) for i in range(len(example.words))]
                for hit, relation in zip(reference_correct(example, predictions), example.deprels):
                    baseline[row, index[relation]] += hit
    finally:
        hf.set_attn_implementation(previous)
    order = [relations.index(r) for r in sorted(relations, key=lambda r: (-sum(s.deprels.count(r)
                                                                               for s in sentences), r))]
    return {"correct": correct[..., order], "baseline": baseline[:, order], "mst": mst, "total": total,
            "relations": [relations[i] for i in order]}


def random_sentences(n: int, seed: int = 0) -> list[DependencySentence]:
    """Random trees over words that split into several word pieces, with possessives and punctuation."""
    vocabulary = ("the unbelievably overpriced savings-and-loan bailout agency collapsed quickly sister 's dog "
                  "barked thrifts government restrict legislation capital , .").split()
    labels = ("det", "amod", "nsubj", "obj", "nmod:poss", "advmod", "case")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        size = int(rng.integers(2, 12))
        words = list(rng.choice(vocabulary, size=size))
        order = rng.permutation(size)
        heads = [0] * size
        for rank, word in enumerate(order[1:], start=1):
            heads[word] = int(order[rng.integers(0, rank)]) + 1
        deprels = ["root" if h == 0 else ("punct" if w in ",." else str(rng.choice(labels)))
                   for w, h in zip(words, heads)]
        upos = ["PUNCT" if w in ",." else "X" for w in words]
        out.append(DependencySentence(tuple(words), tuple(upos), tuple(upos), tuple(heads), tuple(deprels)))
    return out


@pytest.fixture(scope="module")
def evaluation_sentences() -> list[DependencySentence]:
    return list(bt.data.load_conllu(FIXTURE)) + random_sentences(14)


@pytest.mark.parametrize("from_split", ["mean", "first", "max"])
def test_matches_the_notebook_procedure(tiny_model, evaluation_sentences, from_split, monkeypatch):
    monkeypatch.setattr(module, "CHUNK_SENTENCES", 8)       # several chunks and length-sorted batches
    model = tiny_model("bert")
    ours = dependency_heads(model, evaluation_sentences, batch_size=3, from_split=from_split, progress=False)
    expected = reference(model, evaluation_sentences, from_split)
    assert ours.relations == expected["relations"]
    np.testing.assert_array_equal(ours.correct, expected["correct"])
    np.testing.assert_array_equal(ours.baseline_correct, expected["baseline"])
    np.testing.assert_array_equal(ours.mst_correct, expected["mst"])
    assert ours.mst_total == expected["total"]
    assert ours.n_sentences == len(evaluation_sentences)


def test_summing_rows_of_split_words_would_be_caught(tiny_model, evaluation_sentences):
    """The data above tell the paper's mean over a split word's rows from a sum over them."""
    model = tiny_model("bert")
    ours = dependency_heads(model, evaluation_sentences, from_split="mean", progress=False)
    mutated = reference(model, evaluation_sentences, "sum")
    assert not np.array_equal(ours.correct, mutated["correct"])
    np.testing.assert_array_equal(ours.correct[0], mutated["correct"][0])   # dep->head: argmax of a row


def test_table_reports_the_best_head_and_offset(tiny_model, evaluation_sentences):
    result = dependency_heads(tiny_model("bert"), evaluation_sentences, min_count=5, progress=False)
    frame = result.to_frame()
    accuracy = result.accuracy()
    for _, row in frame[frame["relation"] != "all"].iterrows():
        r = result.relations.index(row["relation"])
        d = list(module.DIRECTIONS).index(row["direction"])
        assert row["accuracy"] == pytest.approx(accuracy[d, :, :, r].max())
        assert row["accuracy"] == pytest.approx(accuracy[d, row["layer"], row["head"], r])
        assert row["n"] == result.counts[r] >= 5
        assert row["baseline_accuracy"] == pytest.approx((result.baseline_correct[:, r] / result.counts[r]).max())
    assert not frame["relation"].isin(["root", "punct"]).any()
    assert frame.groupby("relation")["best"].sum().eq(1).all()
    everything = frame[frame["relation"] == "all"].iloc[0]
    assert everything["n"] == sum(len(s.words) for s in evaluation_sentences)


def test_layer_subset_is_a_slice_of_all_layers(tiny_model, evaluation_sentences):
    model = tiny_model("bert")
    every = dependency_heads(model, evaluation_sentences[:6], progress=False)
    last = dependency_heads(model, evaluation_sentences[:6], layers=-1, progress=False)
    assert last.layers == [model.num_layers - 1]
    np.testing.assert_array_equal(last.correct, every.correct[:, -1:])
    np.testing.assert_array_equal(last.mst_correct, every.mst_correct[-1:])


def test_every_architecture_runs(arch, tiny_model, tmp_path):
    model = tiny_model(arch)
    result = dependency_heads(model, FIXTURE, min_count=1, progress=False)
    treebank = bt.data.load_conllu(FIXTURE)
    assert result.n_sentences == len(treebank)
    assert result.correct.shape[:3] == (2, model.num_layers, model.num_heads)
    assert result.counts.sum() == treebank.n_words
    assert (result.correct <= result.counts).all()
    assert 0 < result.mst_total and (result.mst_correct <= result.mst_total).all()
    loaded = DependencyHeads.load(result.save(tmp_path / "heads"))
    np.testing.assert_array_equal(loaded.correct, result.correct)


def test_too_long_and_unaligned_sentences_are_left_out_with_a_count(tiny_model):
    model = tiny_model("bert")
    long_words = " ".join(["savings-and-loan"] * 40)
    too_long = sentence(long_words, [0] + [1] * 39, " ".join(["root"] + ["dep"] * 39))
    spaced = DependencySentence(("New York", "sleeps"), ("X", "X"), ("X", "X"), (2, 0), ("nsubj", "root"))
    dropped = sentence("Dogs \u200b bark", [3, 3, 0], "nsubj dep root")    # the tokenizer drops "\u200b"
    kept = sentence("Dogs bark .", [2, 0, 2], "nsubj root punct")
    result = dependency_heads(model, [too_long, spaced, dropped, kept], min_count=1, progress=False)
    assert result.n_sentences == 1
    assert result.left_out == {"too_long": 1, "unaligned": 2}
    assert result.relations == ["nsubj", "punct", "root"]
    with pytest.raises(InputError, match="No sentence could be evaluated"):
        dependency_heads(model, [too_long], progress=False)


@pytest.mark.parametrize("kwargs, message", [
    ({"treebank": []}, "treebank is empty"),
    ({"treebank": [("Dogs", "bark")]}, "not a DependencySentence"),
    ({"treebank": [DependencySentence(("Dogs",), ("X",), ("X",), (3,), ("root",))]}, "head outside"),
    ({"treebank": "no/such/file.conllu"}, "no/such/file.conllu"),
    ({"from_split": "sum"}, "from_split"),
    ({"layers": "1-x"}, "Cannot read layers"),
    ({"batch_size": 0}, "batch_size"),
    ({"min_count": 0}, "min_count"),
])
def test_bad_input_is_refused_before_the_model_loads(kwargs, message):
    arguments = {"model": "no-such-model-anywhere", "treebank": [SHORT], **kwargs}
    with pytest.raises(InputError, match=message):
        dependency_heads(**arguments, progress=False)


def test_out_of_range_layers_are_refused(tiny_model):
    with pytest.raises(InputError, match="out of range"):
        dependency_heads(tiny_model("bert"), [SHORT], layers=[7], progress=False)


def test_figure_files(tiny_model, tmp_path):
    result = dependency_heads(tiny_model("bert"), FIXTURE, min_count=2, progress=False)
    figure = result.plot()
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels[0].startswith("all (") and len(labels) == len(result.to_frame()) // 2
    assert [p.name for p in save_dependency_head_figures(result, tmp_path)] == ["dependency_heads.pdf",
                                                                                "dependency_heads.png"]
