import pickle
import re

import h5py
import numpy as np
import pytest

from mcof.artifacts import ArtifactError, ArtifactReader, ArtifactWriter, LazyReaders


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


def test_lazy_readers_keep_reads_within_their_budget(tmp_path):
    """A training's readers keep what fits their budget and read the rest each time; what they
    hand out is read-only (a kept array is handed out again), and a pickled copy (a spawned
    worker) starts empty."""
    rng = np.random.default_rng(0)
    arrays = {f"img{i}": rng.integers(0, 9, (10, 10)).astype(np.uint8) for i in range(3)}
    with ArtifactWriter(tmp_path / "s0.h5", "seeds", {}) as out:
        for image_id, labels in arrays.items():
            out.write(image_id, labels=labels)
    readers = LazyReaders(250, seeds=([tmp_path / "s0.h5"], "seeds"))
    for _ in range(2):
        for image_id, labels in arrays.items():
            got = readers.seeds.read(image_id, "labels")
            assert np.array_equal(got, labels) and not got.flags.writeable
    assert sorted(key[1] for key in readers._kept) == ["img0", "img1"]  # 100 + 100 of 250 bytes
    assert readers.seeds.read("img0", "labels") is readers.seeds.read("img0", "labels")
    assert readers.seeds.read("img2", "labels") is not readers.seeds.read("img2", "labels")
    with pytest.raises(ValueError):
        readers.seeds.read("img0", "labels")[0, 0] = 1
    assert readers.seeds.ids == ["img0", "img1", "img2"]
    copy = pickle.loads(pickle.dumps(readers))
    assert copy._kept == {} and np.array_equal(copy.seeds.read("img1", "labels"), arrays["img1"])
    plain = LazyReaders(0, seeds=([tmp_path / "s0.h5"], "seeds"))
    assert plain.seeds.read("img0", "labels").flags.writeable and not plain._kept


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


DAMAGED = (r"^artifact {path} \(stage 'cams'\) is damaged \(.+\); "
           r"delete it and rerun: Snakemake will rebuild it$")


def cams_file(path, n_images=3):
    rng = np.random.default_rng(1)
    with ArtifactWriter(path, "cams", {"scales": [1.0]}) as out:
        for i in range(n_images):
            out.write(f"img{i}", cams=rng.random((2, 24, 24)).astype(np.float32),
                      classes=np.array([1, 3], np.uint8))


def read_everything(path):
    with ArtifactReader(path, "cams") as reader:
        return reader.params, {i: reader.read_all(i) for i in reader}


def test_truncated_file_names_itself_its_stage_and_the_fix(tmp_path):
    path = tmp_path / "shard1.h5"
    cams_file(path)
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)
    with pytest.raises(ArtifactError, match=DAMAGED.format(path=re.escape(str(path)))) as caught:
        read_everything(path)
    assert "\n" not in str(caught.value)


def test_flipped_byte_in_an_array_is_caught_on_read(tmp_path):
    """The byte lies inside the stored data of one image's CAMs (HDF5 reports where); only that
    read fails, before its values reach anyone."""
    path = tmp_path / "shard1.h5"
    cams_file(path)
    with h5py.File(path) as f:
        chunk = f["img1/cams"].id.get_chunk_info(0)
    with open(path, "r+b") as f:
        f.seek(chunk.byte_offset + chunk.size // 2)
        byte = f.read(1)[0]
        f.seek(-1, 1)
        f.write(bytes([byte ^ 0x01]))
    with ArtifactReader(path, "cams") as reader:
        assert reader.read("img0", "cams").shape == (2, 24, 24)
        with pytest.raises(ArtifactError, match=DAMAGED.format(path=re.escape(str(path)))):
            reader.read("img1", "cams")


def test_any_flipped_byte_is_caught(tmp_path):
    """Arrays carry Fletcher-32 sums, the file's structure and attributes HDF5's metadata
    checksums, the root attributes a CRC-32: wherever one byte flips (every 7th byte tried),
    reading it all either fails with the damaged-artifact message or gives back exactly what
    was written (the byte was unused)."""
    path = tmp_path / "a.h5"
    cams_file(path, n_images=1)
    written = read_everything(path)
    data = path.read_bytes()
    damaged_path = tmp_path / "b.h5"
    positions = range(0, len(data), 7)
    caught = 0
    for position in positions:
        flipped = bytearray(data)
        flipped[position] ^= 0x10
        damaged_path.write_bytes(bytes(flipped))
        try:
            got = read_everything(damaged_path)
        except ArtifactError as err:
            assert "delete it and rerun" in str(err), err
            caught += 1
            continue
        params, arrays = got
        assert params == written[0] and arrays.keys() == written[1].keys(), position
        for image_id, named in arrays.items():
            assert named.keys() == written[1][image_id].keys(), position
            for name, value in named.items():
                assert np.array_equal(value, written[1][image_id][name]), (position, name)
    assert caught > len(positions) / 3
