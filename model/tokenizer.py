"""CLAP's RoBERTa tokenizer, built from local vocab/merges files with `tokenizers`.

The same `tokenizers` object is saved as `tokenizer.json` into model packages, so the
torch-free runtime tokenises exactly as the model was trained.
"""

from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>")


def _finish(tokenizer: Tokenizer, max_length: int) -> Tokenizer:
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    bos, eos = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
    tokenizer.post_processor = processors.RobertaProcessing(("</s>", eos), ("<s>", bos))
    tokenizer.enable_truncation(max_length)
    tokenizer.enable_padding(
        pad_id=tokenizer.token_to_id("<pad>"), pad_token="<pad>", length=max_length
    )
    return tokenizer


def roberta_tokenizer(vocab_json: Path, merges_txt: Path, max_length: int = 77) -> Tokenizer:
    """roberta-base's byte-level BPE: `<s> ... </s>`, padded and truncated to `max_length`."""
    for path in (vocab_json, merges_txt):
        if not Path(path).is_file():
            raise FileNotFoundError(f"tokenizer file not found: {path}")
    bpe = models.BPE.from_file(str(vocab_json), str(merges_txt))
    return _finish(Tokenizer(bpe), max_length)


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int, max_length: int = 77) -> Tokenizer:
    """A small byte-level BPE in the RoBERTa layout, for configurations trained here."""
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return _finish(tokenizer, max_length)
