"""The official files of the MNIST family, known by their MD5s: which dataset a file is.

Where the values come from:
- ``.gz`` files: torchvision 0.29's ``datasets.{MNIST,FashionMNIST,KMNIST}.resources``
  (``tests/core/test_data.py`` checks they still agree);
- uncompressed MNIST: the ``MD5SUMS`` that comes with the course's copy of MNIST;
- uncompressed Fashion-MNIST: computed from Debian's ``dataset-fashion-mnist`` package
  (``/usr/share/datasets/fashion-mnist``, 0.0~git20200523).
KMNIST's uncompressed MD5s were not at hand (no copy of its files here), so only its
``.gz`` files are recognised; its uncompressed files count as unknown.
A user may recompress the files, so the uncompressed contents are what usually identifies them.
"""

from __future__ import annotations

import hashlib

from savi_tui.core.errors import DatasetError

TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "kmnist": "KMNIST"}

# dataset → IDX file (without .gz) → MD5 of the official .gz file
GZ_MD5 = {
    "mnist": {
        "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    "kmnist": {
        "train-images-idx3-ubyte": "bdb82020997e1d708af4cf47b453dcf7",
        "train-labels-idx1-ubyte": "e144d726b3acfaa3e44228e80efcd344",
        "t10k-images-idx3-ubyte": "5c965bf0a639b31b8f53240b1b52f4d7",
        "t10k-labels-idx1-ubyte": "7320c461ea6c1c855c0b718fb2a4b134",
    },
}

# dataset → IDX file → MD5 of its uncompressed contents
RAW_MD5 = {
    "mnist": {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
}

_OWNER = {md5: dataset for table in (GZ_MD5, RAW_MD5) for dataset, files in table.items() for md5 in files.values()}


def official_dataset(contents: bytes, packed: bytes | None = None) -> str | None:
    """The dataset whose official file this is (by its uncompressed ``contents`` or its
    ``packed`` .gz bytes), or None for a file savi-tui does not know."""
    for data in (contents, packed):
        if data is not None:
            owner = _OWNER.get(hashlib.md5(data).hexdigest())
            if owner is not None:
                return owner
    return None


def check_owners(dataset: str, owners: dict[str, str | None]) -> str | None:
    """Refuse another dataset's official files; a warning when some are unknown, else None.

    ``owners`` maps each IDX file name to ``official_dataset`` of its contents.
    """
    title = TITLES[dataset]
    others = {name: owner for name, owner in sorted(owners.items()) if owner not in (None, dataset)}
    if others:
        name, owner = next(iter(others.items()))
        if len(others) == len(owners) and len(set(others.values())) == 1:
            raise DatasetError(f"these are {TITLES[owner]}'s files, not {title}'s; use --dataset {owner}")
        raise DatasetError(f"{name} is one of {TITLES[owner]}'s files, not {title}'s; the four must be one dataset's")
    unknown = [name for name, owner in sorted(owners.items()) if owner is None]
    if not unknown:
        return None
    which = "these files do" if len(unknown) == len(owners) else f"{', '.join(unknown)} {_does(unknown)}"
    note = " (only KMNIST's .gz files are known)" if dataset == "kmnist" else ""
    return f"{which} not match {title}'s official checksums{note}; imported as {dataset} anyway"


def _does(names: list[str]) -> str:
    return "does" if len(names) == 1 else "do"
