import numpy as np


def test_vectors_are_unit_length_and_in_input_order(embedder):
    texts = ["A list holds items in order.", "x", "Python is an interpreted language: code runs one line at a time."]
    vectors = embedder.encode(texts)
    assert vectors.shape == (3, embedder.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    one_by_one = np.stack([embedder.encode([t])[0] for t in texts])
    np.testing.assert_allclose(vectors, one_by_one, atol=1e-4)  # sorting by length and padding change nothing


def test_a_paraphrase_is_closer_than_an_unrelated_sentence(embedder):
    anchor, paraphrase, unrelated = embedder.encode(
        [
            "How do I stop a loop before it finishes?",
            "A break statement ends the loop early.",
            "Photosynthesis turns sunlight into chemical energy in plants.",
        ]
    )
    assert anchor @ paraphrase > anchor @ unrelated + 0.2


def test_no_texts_no_vectors(embedder):
    assert embedder.encode([]).shape == (0, embedder.dim)


def test_the_embedder_is_loaded_once_per_process(embedder):
    from tutor.ml.retrieval.embedder import get_embedder

    assert get_embedder() is embedder
