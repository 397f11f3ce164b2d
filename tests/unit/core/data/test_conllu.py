"""CoNLL-U reader and per-word tag tasks on the hand-written UD v2 fixture and broken copies of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bertology as bt
from bertology.core.data import DependencySentence, Treebank, load_conllu, word_task
from bertology.core.errors import InputError
from bertology.core.paths import SHIPPED_DIR

FIXTURE = SHIPPED_DIR / "ud_sample.conllu"
LINES = FIXTURE.read_text(encoding="utf-8").split("\n")


def write(tmp_path, lines, name="broken.conllu") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def replace_line(tmp_path, number, new) -> Path:
    lines = list(LINES)
    lines[number - 1] = new
    return write(tmp_path, lines)


def line_of(prefix: str) -> int:
    return next(number for number, line in enumerate(LINES, start=1) if line.startswith(prefix))


def test_fixture_sentences_words_and_columns():
    ud = load_conllu(FIXTURE)
    assert isinstance(ud, Treebank) and len(ud) == 6 and ud.name == "ud_sample" and ud.path == str(FIXTURE)
    first = ud[0]
    assert first.words == ("I", "do", "n't", "know", "who", "did", "it", ".")
    assert first.upos == ("PRON", "AUX", "PART", "VERB", "PRON", "VERB", "PRON", "PUNCT")
    assert first.xpos[:3] == ("PRP", "VBP", "RB")
    assert first.heads == (4, 4, 4, 0, 6, 4, 6, 4)
    assert first.deprels == ("nsubj", "aux", "advmod", "root", "nsubj", "ccomp", "obj", "punct")
    assert first.text == "I do n't know who did it ." and first.root == 3
    assert first.line == line_of("1\tI\t")


def test_multiword_range_and_empty_node_are_skipped():
    ud = load_conllu(FIXTURE)
    assert "don't" not in ud[0].words and len(ud[0].words) == 8
    ellipsis = ud[1]
    assert ellipsis.words == ("Sue", "likes", "coffee", "and", "Bill", "tea", ".")
    assert ellipsis.heads == (2, 0, 2, 6, 6, 2, 2)
    assert ellipsis.deprels[4] == "orphan"


def test_comments_are_metadata():
    ud = load_conllu(FIXTURE)
    assert ud[0].metadata == {"newdoc id": "bertology-sample", "sent_id": "sample-01",
                              "text": "I don't know who did it."}
    assert ud[2].metadata["newpar"] == "" and ud[3].metadata["text"] == '"Wow," she said, "that\'s great!"'


def test_subtypes_punctuation_and_non_projective_arc():
    ud = load_conllu(FIXTURE)
    assert {"nmod:poss", "nsubj:pass", "aux:pass", "obl:tmod"} <= {d for s in ud for d in s.deprels}
    assert ud[3].upos.count("PUNCT") == 7
    heads = np.array(ud[2].heads)
    crossing = [(d, h, d2, h2) for d, h in enumerate(heads, 1) for d2, h2 in enumerate(heads, 1)
                if h and h2 and min(d, h) < min(d2, h2) < max(d, h) < max(d2, h2)]
    assert crossing


def test_limit_reads_the_first_sentences_only():
    assert len(load_conllu(FIXTURE, limit=2)) == 2
    assert len(load_conllu(FIXTURE, limit=100)) == 6
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(InputError, match="limit="):
            load_conllu(FIXTURE, limit=bad)


def test_exported_through_bt_data_and_slicing():
    ud = bt.data.load_conllu(FIXTURE)
    part = ud[1:3]
    assert isinstance(part, Treebank) and part.name == "ud_sample" and part[0] is ud[1]
    assert ud.n_words == 50 and "sentences=6" in repr(ud)


def test_crlf_bom_missing_final_blank_line_and_extra_blank_lines(tmp_path):
    body = "\n".join(LINES).rstrip("\n")
    text = "\ufeff\n\n" + body.replace("\n\n", "\n\n\n")
    path = tmp_path / "crlf.conllu"
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    ud = load_conllu(path)
    assert [s.words for s in ud] == [s.words for s in load_conllu(FIXTURE)]


def test_form_with_a_space_stays_one_word(tmp_path):
    number = line_of("9\tmail\t")
    path = replace_line(tmp_path, number, LINES[number - 1].replace("\tmail\t", "\tmail box\t", 1))
    sentence = load_conllu(path)[4]
    assert sentence.words[8] == "mailbox" and len(sentence.text.split()) == len(sentence.words)


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"\n  \n", "is empty"),
    (b"# only = a comment\n", "no word lines"),
    (b"\xff\xfe1\tx\n", "not UTF-8"),
])
def test_empty_comment_only_and_non_utf8_files(tmp_path, content, message):
    path = tmp_path / "x.conllu"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_conllu(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_conllu(tmp_path / "nope.conllu")
    with pytest.raises(InputError, match="is a directory"):
        load_conllu(tmp_path)


def _field(number, column, value):
    fields = LINES[number - 1].split("\t")
    fields[column] = value
    return "\t".join(fields)


@pytest.mark.parametrize("make, message", [
    (lambda n: "\t".join(LINES[n - 1].split("\t")[:9]), r":{n}: 9 tab-separated columns.*10 \(ID FORM"),
    (lambda n: LINES[n - 1].replace("\t", "   "), r":{n}: 1 tab-separated columns \(the columns look separated by "
                                                 "spaces"),
    (lambda n: _field(n, 6, "x"), r":{n}: HEAD 'x' of word 4 is not a word ID"),
    (lambda n: _field(n, 6, "_"), r":{n}: HEAD '_' of word 4 is not a word ID"),
    (lambda n: _field(n, 6, "-1"), r":{n}: HEAD '-1' of word 4"),
    (lambda n: _field(n, 0, "4a"), r":{n}: ID '4a' is not a word index"),
    (lambda n: _field(n, 0, "5"), r":{n}: word ID 5, but the sentence's next word is 4"),
    (lambda n: _field(n, 1, ""), r":{n}: word 4 has an empty FORM"),
])
def test_malformed_word_line_names_file_and_line(tmp_path, make, message):
    number = line_of("4\tknow\t")
    path = replace_line(tmp_path, number, make(number))
    with pytest.raises(InputError, match=r"broken\.conllu" + message.format(n=number)):
        load_conllu(path)


def test_head_out_of_range_names_its_line(tmp_path):
    number = line_of("6\tdid\t")
    with pytest.raises(InputError, match=rf"broken\.conllu:{number}: HEAD 9 is past the sentence's last word \(8\)"):
        load_conllu(replace_line(tmp_path, number, _field(number, 6, "9")))


def test_no_root_names_the_sentence(tmp_path):
    root = line_of("4\tknow\t")
    with pytest.raises(InputError, match=rf"broken\.conllu:{line_of('# newdoc')}: the sentence has no root"):
        load_conllu(replace_line(tmp_path, root, _field(root, 6, "6")))


def test_second_root_names_the_later_line(tmp_path):
    first = line_of("1\tI\t")
    root = line_of("4\tknow\t")
    with pytest.raises(InputError, match=rf":{root}: a second root \(HEAD 0; the first is on line {first}\)"):
        load_conllu(replace_line(tmp_path, first, _field(first, 6, "0")))


def test_cycle_is_named(tmp_path):
    first = line_of("1\tSue\t")
    root = line_of("2\tlikes\t")
    lines = list(LINES)
    lines[root - 1] = _field(root, 6, "1")
    lines[first - 1] = _field(first, 6, "2")
    lines[line_of("3\tcoffee\t") - 1] = _field(line_of("3\tcoffee\t"), 6, "0")
    with pytest.raises(InputError, match=rf":{first}: the HEAD chain from word 1 loops without reaching the root"):
        load_conllu(write(tmp_path, lines))


def test_comment_block_without_words_and_missing_blank_line(tmp_path):
    lines = list(LINES)
    lines.insert(line_of("# sent_id = sample-02"), "")
    with pytest.raises(InputError, match=r"broken\.conllu:\d+: the sentence has comment lines but no word lines"):
        load_conllu(write(tmp_path, lines))
    lines = [line for number, line in enumerate(LINES, start=1) if number != line_of("# sent_id = sample-02") - 1]
    with pytest.raises(InputError, match=r"word ID 1, but the sentence's next word is 9"):
        load_conllu(write(tmp_path, lines))


def test_dependency_sentence_checks_lengths():
    with pytest.raises(InputError, match="one entry per word"):
        DependencySentence(("a", "b"), ("X",), ("X", "X"), (0, 1), ("root", "dep"))
    with pytest.raises(InputError, match="no words"):
        DependencySentence((), (), (), (), ())


def test_word_task_one_row_per_word():
    ud = load_conllu(FIXTURE)
    data = word_task(ud, "upos")
    assert len(data) == ud.n_words and data.name == "ud_sample-upos" and data.split is None
    assert data.texts[:8] == [ud[0].text] * 8 and data.words[:9] == [0, 1, 2, 3, 4, 5, 6, 7, 0]
    gold = [tag for sentence in ud for tag in sentence.upos]
    assert [data.label_names[k] for k in data.labels] == gold
    assert data.label_names == sorted(set(gold))
    assert data.types[:3] == ["i", "do", "n't"]
    deprel = word_task(ud, "deprel")
    assert [deprel.label_names[k] for k in deprel.labels] == [d for s in ud for d in s.deprels]
    xpos = word_task(ud, "xpos")
    assert "PRP$" in xpos.label_names


def test_word_task_with_test_treebank_and_errors():
    ud = load_conllu(FIXTURE)
    data = word_task(ud[:4], "upos", test=ud[4:])
    assert data.split.tolist() == ["train"] * ud[:4].n_words + ["test"] * ud[4:].n_words
    with pytest.raises(InputError, match="Unknown word tag 'lemma'"):
        word_task(ud, "lemma")
    with pytest.raises(InputError, match="train treebank has no sentences"):
        word_task(ud[:0], "upos")
    blank = DependencySentence(("a", "b"), ("X", "X"), ("_", "_"), (0, 1), ("root", "dep"))
    with pytest.raises(InputError, match="no XPOS tags"):
        word_task([blank], "xpos")


def test_word_task_min_count_leaves_out_rare_tags():
    ud = load_conllu(FIXTURE)
    data = word_task(ud, "upos", min_count=5)
    counts = {}
    for tag in (t for s in ud for t in s.upos):
        counts[tag] = counts.get(tag, 0) + 1
    assert data.label_names == sorted(t for t, c in counts.items() if c >= 5)
    assert len(data) == sum(c for c in counts.values() if c >= 5)
    assert all(data.texts[i].split()[data.words[i]] for i in range(len(data)))
    rows = [(s.text, i, t) for s in ud for i, t in enumerate(s.upos) if counts[t] >= 5]
    assert [(t, w, data.label_names[k]) for t, w, k in zip(data.texts, data.words, data.labels)] == rows
    with pytest.raises(InputError, match="min_count=0"):
        word_task(ud, "upos", min_count=0)
