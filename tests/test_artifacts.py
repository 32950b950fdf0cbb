import h5py
import numpy as np
import pytest

from mcof.artifacts import ArtifactError, ArtifactReader, ArtifactWriter


def test_roundtrip_across_shards(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.random((3, 40, 50)).astype(np.float32), rng.integers(0, 9, (7,)).astype(np.uint8)
    with ArtifactWriter(tmp_path / "s0.h5", "cams", {"scales": [1.0]}) as out:
        out.write("img_a", cams=a, classes=b)
    with ArtifactWriter(tmp_path / "s1.h5", "cams", {"scales": [1.0]}) as out:
        out.write("img_b", cams=a[:1], classes=b[:1])
    with ArtifactReader([tmp_path / "s0.h5", tmp_path / "s1.h5"], "cams") as reader:
        assert sorted(reader.ids) == ["img_a", "img_b"]
        assert np.array_equal(reader.read("img_a", "cams"), a)
        assert np.array_equal(reader.read("img_b", "classes"), b[:1])
        assert reader.params == {"scales": [1.0]}
        assert set(reader.read_all("img_a")) == {"cams", "classes"}


def test_failed_write_leaves_no_file(tmp_path):
    target = tmp_path / "out.h5"
    with pytest.raises(RuntimeError):
        with ArtifactWriter(target, "seeds") as out:
            out.write("x", labels=np.zeros(3, np.uint8))
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_existing_file_survives_a_failed_rewrite(tmp_path):
    target = tmp_path / "out.h5"
    with ArtifactWriter(target, "seeds") as out:
        out.write("x", labels=np.ones(3, np.uint8))
    with pytest.raises(RuntimeError):
        with ArtifactWriter(target, "seeds") as out:
            out.write("x", labels=np.zeros(3, np.uint8))
            raise RuntimeError("killed")
    with ArtifactReader(target, "seeds") as reader:
        assert reader.read("x", "labels").tolist() == [1, 1, 1]


def test_wrong_stage_missing_image_missing_file(tmp_path):
    with ArtifactWriter(tmp_path / "a.h5", "regions") as out:
        out.write("x", labels=np.zeros(2, np.uint8))
    with pytest.raises(ArtifactError, match="written by stage 'regions'.*'seeds' was expected"):
        ArtifactReader(tmp_path / "a.h5", "seeds")
    with ArtifactReader(tmp_path / "a.h5", "regions") as reader:
        with pytest.raises(ArtifactError, match="image y is missing from the 'regions' artifacts"):
            reader.read("y", "labels")
        with pytest.raises(ArtifactError, match="has no array 'scores'"):
            reader.read("x", "scores")
    with pytest.raises(ArtifactError, match="artifact file not found"):
        ArtifactReader(tmp_path / "nope.h5", "regions")


def test_attributes_record_stage_and_count(tmp_path):
    with ArtifactWriter(tmp_path / "a.h5", "saliency", {"method": "rbd"}) as out:
        out.write("x", saliency=np.zeros((4, 4), np.float16))
        out.write("y", saliency=np.zeros((4, 4), np.float16))
    with h5py.File(tmp_path / "a.h5") as f:
        assert f.attrs["stage"] == "saliency" and f.attrs["n_images"] == 2
        assert '"method": "rbd"' in f.attrs["params"]


def test_invalid_image_id(tmp_path):
    with pytest.raises(ArtifactError):
        with ArtifactWriter(tmp_path / "a.h5", "seeds") as out:
            out.write("a/b", labels=np.zeros(1))
