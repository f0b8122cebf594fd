"""Hidden tests, task questions (standard variant): the four conceptual answers."""

import pytest

from autograder.grade import checks

pytestmark = pytest.mark.task("questions")


def test_q1_utf8_lengths(student):
    checks.equal(student.q1_utf8_lengths(), (1, 2, 3, 4), what="q1: UTF-8 bytes of 'a', 'é', '€', '👋'",
                 hint="len(c.encode('utf-8')): ASCII takes 1 byte, most emoji 4")


def test_q2_number_of_merges(student):
    checks.equal(student.q2_number_of_merges(), 742, what="q2: merges learned for vocab_size=1000 with 2 special tokens",
                 hint="vocab_size counts the 256 byte tokens, the merges and the special tokens")


def test_q3_embedding_growth(student):
    checks.equal(student.q3_embedding_growth(), 409_763_840, what="q3: parameters gained going from 50,257 to "
                 "100,277 tokens", hint="each new token adds a row of d_model to the embedding and to the output layer")


def test_q4_digit_tokens(student):
    checks.equal(student.q4_digit_tokens(), 5, what="q4: cl100k tokens of ' 3141592653'",
                 hint="GPT-4's pattern cuts digits into groups of at most three, from the left, and the space is a "
                 "pre-token of its own: ' ', '314', '159', '265', '3'")
