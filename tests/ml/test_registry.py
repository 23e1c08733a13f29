import json

import pytest

from tutor.ml import registry


def test_versions_on_disk(tmp_path):
    assert registry.list_versions(tmp_path, "grader") == []
    name = registry.new_version_name()
    assert registry.validate_version(name) == name
    path = registry.version_dir(tmp_path, "grader", name)
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"max_length": 96}))
    (path / "metrics.json").write_text(json.dumps({"validation": {"macro_f1": 0.5}}))
    (tmp_path / "grader" / "incomplete").mkdir()
    found = registry.list_versions(tmp_path, "grader")
    assert [v.version for v in found] == [name]
    assert found[0].metrics["validation"]["macro_f1"] == 0.5 and found[0].training_summary == {}
    assert registry.latest_version(tmp_path, "grader").path == path
    with pytest.raises(FileNotFoundError):
        registry.load_version(tmp_path, "grader", "incomplete")


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "-x", "x" * 101])
def test_invalid_version_names(bad):
    with pytest.raises(ValueError):
        registry.validate_version(bad)
