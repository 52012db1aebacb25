"""C kernels that PyTorch does not have, compiled on this machine the first time they are needed.

A kernel's source lies beside this module (``maxpool2x2.c``). It is compiled with the system's C
compiler (``$CC``, else ``cc``) for this CPU (``-march=native``) and with OpenMP, whose runtime is
the one PyTorch has already loaded, so a kernel runs on PyTorch's threads. The library is kept in
``$XDG_CACHE_HOME/savi-tui/kernels`` (else ``~/.cache/...``) under a name that changes with the
source, the compiler and the CPU, so a home folder shared by different machines keeps one for each.

Without a compiler, or with ``SAVI_NATIVE_KERNELS=0``, ``load_kernels`` answers None and callers
use PyTorch's own operations instead. The choice depends only on the machine, never on a timing.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

from savi_tui.core.device import cpu_info

DISABLE_ENV = "SAVI_NATIVE_KERNELS"
FLAGS = ("-O3", "-march=native", "-fopenmp", "-shared", "-fPIC")


def compiler_flags() -> tuple[str, ...]:
    """FLAGS, without AVX-512 on an x86 CPU where PyTorch is told to stay below it
    (``ATEN_CPU_CAPABILITY`` avx2 or default), so that the kernels do not run wider vectors than
    the rest of the training."""
    below_avx512 = os.environ.get("ATEN_CPU_CAPABILITY", "").strip().lower() in ("avx2", "default")
    if below_avx512 and platform.machine().lower() in ("x86_64", "amd64"):
        return (*FLAGS, "-mno-avx512f")
    return FLAGS


def kernels_enabled() -> bool:
    return os.environ.get(DISABLE_ENV, "1").strip().lower() not in ("0", "no", "off", "false")


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "savi-tui" / "kernels"


@functools.cache
def load_kernels(name: str) -> ctypes.CDLL | None:
    """The compiled library of ``<name>.c``, or None where it cannot be built or is switched off."""
    if not kernels_enabled():
        return None
    compiler = shutil.which(os.environ.get("CC") or "cc")
    if compiler is None:
        return None
    try:
        library = _built(compiler, _source(name))
    except (OSError, subprocess.SubprocessError):
        return None
    try:
        return ctypes.CDLL(str(library))
    except OSError:
        return None


def _source(name: str) -> Path:
    return Path(__file__).with_name(f"{name}.c")


def _built(compiler: str, source: Path) -> Path:
    """The library built from ``source``, compiled now unless an identical build is cached."""
    identity = hashlib.sha256()
    identity.update(source.read_bytes())
    flags = compiler_flags()
    identity.update(" ".join((compiler, *flags)).encode())
    identity.update(subprocess.run([compiler, "--version"], capture_output=True, timeout=30, check=True).stdout)
    identity.update(cpu_info("flags").encode())
    for folder in (cache_folder(), Path(tempfile.gettempdir()) / f"savi-tui-kernels-{os.getuid()}"):
        library = folder / f"{source.stem}-{identity.hexdigest()[:16]}.so"
        if library.exists():
            return library
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return _compile(compiler, flags, source, library)
        except OSError:
            continue  # a cache that cannot be written (a compile error is not an OSError): the next folder
    raise OSError(f"cannot build {source.name}")


def _compile(compiler: str, flags: tuple[str, ...], source: Path, library: Path) -> Path:
    # into a temporary name and then renamed: another process never loads a half-written library
    descriptor, partial = tempfile.mkstemp(dir=library.parent, prefix=f".{library.name}.", suffix=".tmp")
    os.close(descriptor)
    try:
        subprocess.run([compiler, *flags, "-o", partial, str(source)], capture_output=True, timeout=120, check=True)
        os.replace(partial, library)
    finally:
        Path(partial).unlink(missing_ok=True)
    return library


def pointer(tensor) -> ctypes.c_void_p | None:
    """A tensor's memory for a kernel's argument (None for None)."""
    return None if tensor is None else ctypes.c_void_p(tensor.data_ptr())


def sizes(*values: int) -> tuple[ctypes.c_int64, ...]:
    """Sizes as a kernel's int64_t arguments."""
    return tuple(ctypes.c_int64(value) for value in values)


def kernel_can_read(x, dtypes: tuple = ("float32",)) -> bool:
    """A real, non-empty CPU batch of images of one of ``dtypes`` (torch's names): not a traced,
    compiled or exported one, whose fake tensors have no memory."""
    import torch

    return (
        type(x) is torch.Tensor
        and x.dim() == 4
        and x.device.type == "cpu"
        and str(x.dtype).removeprefix("torch.") in dtypes
        and x.numel() > 0
        and not torch.jit.is_tracing()
        and not torch.compiler.is_compiling()
    )
