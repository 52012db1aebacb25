"""C kernels are compiled once per machine and kept; without a compiler, with a cache that cannot
be written or when switched off, the answer is a fallback, never an error."""

from __future__ import annotations

import os
import platform

import pytest

from savi_tui.core import native_kernels
from savi_tui.core.native_kernels import cache_folder, load_kernels

needs_compiler = pytest.mark.skipif(
    native_kernels.shutil.which(os.environ.get("CC") or "cc") is None, reason="no C compiler here"
)


@pytest.fixture(autouse=True)
def fresh_loads(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(native_kernels.DISABLE_ENV, raising=False)
    load_kernels.cache_clear()
    yield
    load_kernels.cache_clear()


@needs_compiler
def test_a_kernel_is_compiled_into_the_cache_once_and_then_reused(monkeypatch):
    assert load_kernels("maxpool2x2") is not None
    (library,) = cache_folder().glob("maxpool2x2-*.so")
    assert not list(cache_folder().glob("*.tmp"))  # no half-written library is left behind

    load_kernels.cache_clear()
    monkeypatch.setattr(native_kernels, "_compile", lambda *a: pytest.fail("compiled again"))
    assert load_kernels("maxpool2x2") is not None
    assert list(cache_folder().glob("maxpool2x2-*.so")) == [library]


@needs_compiler
def test_a_cache_that_cannot_be_written_falls_back_to_a_temporary_folder(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setattr(native_kernels.tempfile, "tempdir", str(tmp_path / "tmp"))
    os.makedirs(tmp_path / "tmp")
    assert load_kernels("conv1_pool") is not None
    assert list((tmp_path / "tmp").glob("savi-tui-kernels-*/conv1_pool-*.so"))


@needs_compiler
@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="x86 only")
def test_kernels_for_pytorchs_avx2_code_paths_are_built_without_avx512(monkeypatch):
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    native = load_kernels("conv1_pool")
    load_kernels.cache_clear()
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx2")
    avx2 = load_kernels("conv1_pool")
    assert avx2.conv1_pool_block() == 8  # 8 lanes of AVX2, where the native build may take 16
    assert len(list(cache_folder().glob("conv1_pool-*.so"))) == 2 and avx2._name != native._name


@pytest.mark.parametrize("value", ["0", "off", "no"])
def test_kernels_switched_off_are_not_loaded(monkeypatch, value):
    monkeypatch.setenv(native_kernels.DISABLE_ENV, value)
    assert load_kernels("maxpool2x2") is None
    assert not cache_folder().exists()


def test_without_a_compiler_there_is_no_kernel(monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent/cc")
    assert load_kernels("maxpool2x2") is None


@needs_compiler
def test_a_source_that_does_not_compile_gives_no_kernel(monkeypatch, tmp_path):
    broken = tmp_path / "broken.c"
    broken.write_text("this is not C\n")
    monkeypatch.setattr(native_kernels, "_source", lambda name: broken)
    assert load_kernels("broken") is None
