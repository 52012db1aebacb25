"""``predictions.bin``: the best checkpoint's answer for every test image, and the wrong ones' pixels.

Written by the trainer beside ``statistics.json`` at each new best; read without torch by the
gallery and the metrics screen. The pixels of the misclassified images travel in the file, so
the gallery shows the right images whatever the subset (``-pe``), the datasets root or the
folder of JPGs was, and opens without the dataset.

Layout: ``MAGIC``, a 4-byte big-endian header length, the JSON header, then the body: N true
labels (uint8), N predicted labels (uint8), N confidences (uint16 big-endian, p × 65535), and
784 bytes per wrong image in test order. The header holds the body's SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import sys
from array import array
from dataclasses import dataclass, field
from pathlib import Path

from savi_tui.core.atomic import atomic_write_bytes
from savi_tui.core.errors import SaviError

FILE_NAME = "predictions.bin"
MAGIC = b"SAVI-PREDICTIONS\n"
VERSION = 1
IMAGE_BYTES = 28 * 28
_CONFIDENCE_SCALE = 65535


class PredictionsError(SaviError):
    """predictions.bin is missing, damaged, or of another format."""


@dataclass(frozen=True)
class Prediction:
    """One test image the checkpoint got wrong (or right): where it stands and what it was called."""

    position: int  # in the test split as the run saw it
    true: int
    predicted: int
    confidence: float  # softmax probability of ``predicted``


@dataclass
class Predictions:
    """Per test image: true label, predicted label, confidence; pixels of the wrong ones."""

    epoch: int  # 1-based epoch of the checkpoint
    true: bytes  # one byte a label
    predicted: bytes
    confidence: list[float]
    wrong_pixels: bytes  # IMAGE_BYTES per wrong image, in test order
    source: dict = field(default_factory=dict)  # the test split: dataset, data_folder, percentage, seed
    checkpoint: str = "best.pkl"

    def __len__(self) -> int:
        return len(self.true)

    def wrong(self, true: int | None = None, predicted: int | None = None) -> list[Prediction]:
        """The misclassified images, in test order; ``true``/``predicted`` keep one cell of the matrix."""
        return [
            Prediction(i, t, p, self.confidence[i])
            for i, (t, p) in enumerate(zip(self.true, self.predicted, strict=True))
            if t != p and (true is None or t == true) and (predicted is None or p == predicted)
        ]

    def pixels(self, prediction: Prediction) -> bytes:
        """The 28x28 grey pixels (row by row) of a wrong image."""
        rank = self._wrong_rank()[prediction.position]
        return self.wrong_pixels[rank * IMAGE_BYTES : (rank + 1) * IMAGE_BYTES]

    def _wrong_rank(self) -> dict[int, int]:
        if not hasattr(self, "_ranks"):
            positions = (i for i, (t, p) in enumerate(zip(self.true, self.predicted, strict=True)) if t != p)
            self._ranks = {position: rank for rank, position in enumerate(positions)}
        return self._ranks

    def confusion(self, num_classes: int = 10) -> list[list[int]]:
        """``confusion[true][predicted]``, as statistics.json holds it."""
        matrix = [[0] * num_classes for _ in range(num_classes)]
        for t, p in zip(self.true, self.predicted, strict=True):
            matrix[t][p] += 1
        return matrix


def encode_predictions(predictions: Predictions) -> bytes:
    confidences = array("H", (round(min(max(c, 0.0), 1.0) * _CONFIDENCE_SCALE) for c in predictions.confidence))
    body = bytes(predictions.true) + bytes(predictions.predicted) + _big_endian(confidences) + predictions.wrong_pixels
    header = {
        "format": "savi-tui predictions",
        "version": VERSION,
        "checkpoint": predictions.checkpoint,
        "epoch": predictions.epoch,
        "count": len(predictions),
        "wrong": len(predictions.wrong_pixels) // IMAGE_BYTES,
        "source": predictions.source,
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    encoded = json.dumps(header).encode("utf-8")
    return MAGIC + struct.pack(">I", len(encoded)) + encoded + body


def decode_predictions(data: bytes, name: str = FILE_NAME) -> Predictions:
    """The file's content, checked; a ``PredictionsError`` of one line says what is wrong."""
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 4:
        raise PredictionsError(f"{name}: not a savi-tui predictions file")
    start = len(MAGIC) + 4
    (length,) = struct.unpack(">I", data[len(MAGIC) : start])
    try:
        header = json.loads(data[start : start + length].decode("utf-8"))
        count, wrong, epoch, version = header["count"], header["wrong"], header["epoch"], header["version"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise PredictionsError(f"{name}: damaged header ({type(error).__name__})") from None
    if version != VERSION:
        raise PredictionsError(f"{name}: format version {version}, this savi-tui reads {VERSION}")
    body = data[start + length :]
    if len(body) != 4 * count + wrong * IMAGE_BYTES or hashlib.sha256(body).hexdigest() != header.get("sha256"):
        raise PredictionsError(f"{name}: damaged (its checksum does not match); it is rewritten at the next best")
    true, predicted = body[:count], body[count : 2 * count]
    confidences = array("H")
    confidences.frombytes(body[2 * count : 4 * count])
    if sys.byteorder == "little":
        confidences.byteswap()
    return Predictions(
        epoch=epoch,
        true=true,
        predicted=predicted,
        confidence=[c / _CONFIDENCE_SCALE for c in confidences],
        wrong_pixels=body[4 * count :],
        source=header.get("source") or {},
        checkpoint=header.get("checkpoint", "best.pkl"),
    )


def predictions_of_evaluation(epoch: int, labels, predicted, confidence, images, source: dict) -> Predictions:
    """From the evaluation's CPU tensors: labels and predictions [N], confidences [N], images uint8 [N,1,28,28]."""
    wrong = predicted != labels
    return Predictions(
        epoch=epoch,
        true=labels.byte().numpy().tobytes(),
        predicted=predicted.byte().numpy().tobytes(),
        confidence=confidence.tolist(),
        wrong_pixels=images[wrong].numpy().tobytes(),
        source=source,
    )


def write_predictions(path: str | os.PathLike, predictions: Predictions) -> None:
    atomic_write_bytes(path, encode_predictions(predictions))


def read_predictions(path: str | os.PathLike) -> Predictions:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PredictionsError(
            f"{path.name}: missing (written at each new best; runs from before this version have none)"
        ) from None
    except OSError as error:
        raise PredictionsError(f"{path.name}: cannot be read ({error.strerror})") from None
    return decode_predictions(data, path.name)


def predictions_path(experiment_path: str | os.PathLike) -> Path:
    return Path(experiment_path) / FILE_NAME


def _big_endian(values: array) -> bytes:
    if sys.byteorder == "little":
        values.byteswap()
    return values.tobytes()
