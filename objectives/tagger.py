"""The Keras token tagger: words + casing (+ char-CNN) -> BiLSTM layers -> logits."""

from __future__ import annotations

from objectives.config import TaggerConfig
from objectives.features import N_CASINGS
from objectives.quiet_tf import keras


def build_tagger(config: TaggerConfig, *, n_chars: int, n_tags: int) -> keras.Model:
    """Inputs are ``words`` (B, T), ``casings`` (B, T) and, with chars, ``chars`` (B, T, L).

    The head outputs logits: the loss uses ``from_logits=True`` (a softmax here would be
    applied twice). Word id 0 is padding and masks the LSTMs.
    """
    words = keras.Input((None,), dtype="int32", name="words")
    casings = keras.Input((None,), dtype="int32", name="casings")
    inputs = [words, casings]
    features = [
        keras.layers.Embedding(
            config.n_words + 2, config.word_dim, mask_zero=True, name="word_emb"
        )(words),
        keras.layers.Embedding(N_CASINGS, config.casing_dim, name="casing_emb")(casings),
    ]
    if config.use_chars:
        chars = keras.Input((None, None), dtype="int32", name="chars")
        inputs.append(chars)
        embedded = keras.layers.Embedding(n_chars, config.char_dim, name="char_emb")(chars)
        # A (1, k) Conv2D over (B, T, L, d) is a Conv1D over each word's characters.
        convolved = keras.layers.Conv2D(
            config.char_filters,
            (1, config.char_kernel),
            padding="same",
            activation="relu",
            name="char_cnn",
        )(embedded)
        features.append(keras.ops.max(convolved, axis=2))
    x = keras.layers.Concatenate(name="features")(features)
    x = keras.layers.Dropout(config.dropout)(x)
    for i in range(config.n_layers):
        x = keras.layers.Bidirectional(
            keras.layers.LSTM(config.hidden, return_sequences=True), name=f"bilstm_{i}"
        )(x)
        x = keras.layers.Dropout(config.dropout)(x)
    logits = keras.layers.Dense(n_tags, name="logits")(x)
    return keras.Model(inputs, logits, name="tagger")
