"""What a training job reads and writes without heavy imports: the memory-mappable .npz
(dd2424.npz), the recorded digest of an input (dd2424.io.input_digest), a search trial's
values read without pandas (dd2424.trials.grid_trial), records written without pandas
(dd2424.io.write_records) and the job timing lines (dd2424.clock)."""

import io as io_module
import json
import logging
import os
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

from dd2424 import clock, io, npz, search, trials
from dd2424.mlp import runs
from dd2424.plan import layout

ARRAYS = {
    "X_train": np.arange(4 * 7, dtype=np.float32).reshape(4, 7) / 3,
    "y_train": np.array([3, 1, 0, 9], dtype=np.int64),
    "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "scalar": np.float64(2.5),
    "names": np.array(["cat", "ship"]),
}


def test_a_mappable_npz_is_a_plain_npz_with_aligned_data(tmp_path):
    path = tmp_path / "split.npz"
    npz.write(path, ARRAYS)
    with np.load(path, allow_pickle=False) as f:  # NumPy's own reader
        assert sorted(f.files) == sorted(ARRAYS)
        for name, value in ARRAYS.items():
            np.testing.assert_array_equal(f[name], value)
    mapped = npz.map_arrays(path)
    for name, value in ARRAYS.items():
        array = mapped[name]
        assert type(array) is np.ndarray, name  # not np.memmap: results are plain arrays
        assert array.dtype == np.asarray(value).dtype and array.shape == np.shape(value)
        np.testing.assert_array_equal(array, value)
        assert not array.flags.writeable, name
        if array.size:
            assert array.ctypes.data % npz.ALIGN == 0, name
    assert mapped["fortran"].flags.f_contiguous
    with pytest.raises(ValueError, match="read-only"):
        mapped["X_train"][0, 0] = 1.0
    again = tmp_path / "again.npz"
    npz.write(again, ARRAYS)
    assert again.read_bytes() == path.read_bytes()  # reproducible to the byte


def test_any_uncompressed_npz_maps_and_bad_ones_are_named(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, **ARRAYS)  # members at whatever offsets zipfile gives them
    for name, value in npz.map_arrays(plain).items():
        np.testing.assert_array_equal(value, ARRAYS[name])

    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, X=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=r"pickled\.npz: member X\.npy holds Python objects"):
        npz.map_arrays(pickled)

    compressed = tmp_path / "compressed.npz"
    np.savez_compressed(compressed, X=np.ones(10))
    with pytest.raises(ValueError, match="compressed"):
        npz.map_arrays(compressed)

    whole = tmp_path / "whole.npz"
    npz.write(whole, {"X": np.ones((100, 10), np.float32)})
    data = whole.read_bytes()
    with zipfile.ZipFile(whole) as zf:
        start = zf.getinfo("X.npy").header_offset
    # the zip directory survives, the array's data is cut short: a truncated copy
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: start + 200] + data[start + 4000 :])
    with pytest.raises(ValueError, match=r"cut\.npz"):
        npz.map_arrays(cut)
    text = tmp_path / "text.npz"
    text.write_text("not a zip")
    with pytest.raises(ValueError, match=r"text\.npz is not an \.npz file"):
        npz.map_arrays(text)
    # headers whose shape would wrap a 64-bit size, or is negative, against a few bytes of data
    for shape, data in (((2**62, 4), b""), ((2**61 + 1, 8), b"\0" * 8), ((-1, -1), b"\0")):
        header = io_module.BytesIO()
        dtype = np.dtype("<f4") if shape[1] == 4 else np.dtype("u1")
        fields = {"descr": dtype.str, "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(header, fields)
        forged = tmp_path / "forged.npz"
        with zipfile.ZipFile(forged, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr("X.npy", header.getvalue() + data)
        with pytest.raises(ValueError, match=r"forged\.npz: member X\.npy"):
            npz.map_arrays(forged)


def test_training_on_a_mapped_split_gives_the_same_bits(tmp_path, rng):
    split = {}
    for part, n in (("train", 300), ("val", 60), ("test", 60)):
        split[f"X_{part}"] = rng.standard_normal((n, 20)).astype(np.float32)
        split[f"y_{part}"] = rng.integers(0, 4, n)
    path = tmp_path / "split.npz"
    io.save_arrays(path, split, mappable=True)
    settings = {
        "hidden": [8],
        "lam": 0.01,
        "n_batch": 20,
        "n_epochs": 2,
        "seed": 3,
        "dtype": "float32",
        "schedule": {"kind": "cyclic", "eta_min": 1e-5, "eta_max": 0.1, "n_s_epochs": 1},
    }
    params_a, history_a, _ = runs.run(settings, io.load_arrays(path))
    params_b, history_b, _ = runs.run(settings, io.map_arrays(path))
    assert history_a == history_b
    for name in params_a:
        assert params_a[name].tobytes() == params_b[name].tobytes(), name


def test_a_recorded_digest_is_used_only_while_the_file_is_unchanged(tmp_path):
    path = tmp_path / "split.npz"
    path.write_bytes(b"first version")
    record = io.digest_path(path)
    io.write_digest(path)
    true = io.file_digest(path, "sha256")
    assert io.input_digest(path) == true
    io.write_json(record, io.read_json(record) | {"sha256": "recorded"})
    assert io.input_digest(path) == "recorded"  # the record is used, the file not read
    # Snakemake touches a job's outputs after it, in their order: the file, then its record
    for touched in (path, record):
        touched.touch()
    assert io.input_digest(path) == "recorded"
    # rewritten in place with its old mtime put back (cp -p, rsync -a): its ctime is newer
    stamp = path.stat().st_mtime_ns
    path.write_bytes(b"first versioN")  # the same size
    os.utime(path, ns=(stamp, stamp))
    assert io.input_digest(path) == io.file_digest(path, "sha256") != true
    path.write_bytes(b"first version")
    io.write_digest(path)
    io.write_json(record, io.read_json(record) | {"sha256": "recorded"})
    assert io.input_digest(path) == "recorded"
    # replaced afterwards (newer than its record), or changed in size: computed again
    os.utime(path, ns=(record.stat().st_mtime_ns + 10**9,) * 2)
    assert io.input_digest(path) == true
    path.write_bytes(b"other version!")
    os.utime(record, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    assert io.input_digest(path) == io.file_digest(path, "sha256") != true
    record.write_text("{not json")
    assert io.input_digest(path) == io.file_digest(path, "sha256")
    record.write_text("[1, 2]")
    assert io.input_digest(path) == io.file_digest(path, "sha256")
    assert io.digest_path(layout.SPLIT).as_posix() == layout.SPLIT_DIGEST


def test_records_are_written_as_pandas_writes_them(tmp_path, rng):
    awkward = [0.0, -0.0, 1.0, 100.0, 1e16, 1e-5, 5e-324, 1 / 3, 2.5e22, 123456789.123]
    awkward += [float("nan"), float("inf"), -float("inf")]
    history = [
        {
            "update": i,  # ints
            "eta": float(rng.choice(awkward)),  # floats with NaN and infinities
            "loss": float(rng.standard_normal() * 10.0 ** rng.integers(-8, 9)),
            "mixed": i if i % 2 else 0.5,  # ints and floats: a float column
        }
        for i in range(500)
    ]
    other = [  # not plain Python numbers: through pandas
        {"run": "a b", "flag": True, "x": np.float32(0.1), "n": None},
        {"run": "c", "flag": False, "x": np.float32(2.0), "n": 3},
    ]
    lone = [{"a": float("nan")}, {"a": 1.5}]  # one column, an empty cell
    big = [{"a": 2**60}, {"a": 0.5}]  # an int that a float column cannot hold
    for rows in (history, other, [{"a": 1}, {"b": 2}], lone, big):
        ours, theirs = tmp_path / "ours.tsv", tmp_path / "theirs.tsv"
        io.write_records(ours, rows)
        pd.DataFrame(rows).to_csv(theirs, sep="\t", index=False)
        assert ours.read_bytes() == theirs.read_bytes()
    for rows in ([], history[:3]):  # a table without rows still has its header
        io.write_records(ours, rows, ["update", "eta"])
        pd.DataFrame(rows, columns=["update", "eta"]).to_csv(theirs, sep="\t", index=False)
        assert ours.read_bytes() == theirs.read_bytes()


def same_value(a, b) -> bool:
    """Equal in type and value, floats to the bit (NaN and -0.0 included)."""
    if isinstance(a, float) and isinstance(b, float):
        return struct.pack("<d", a) == struct.pack("<d", b)
    return type(a) is type(b) and json.dumps(a) == json.dumps(b)


def grid_columns(rng) -> dict[str, list]:
    """Columns of the kinds a grid or ranked table holds, and some that only pandas types."""
    n = 7
    mags = 10.0 ** rng.uniform(-30, 30, size=n)
    return {
        "lam": [float(f"{v:.6g}") for v in 10.0 ** rng.uniform(-6, 0, size=n)],  # to_value's
        "wide_range": [float(f"{v:.6g}") for v in mags * rng.choice([-1, 1], size=n)],
        "digits15": [float(f"{v:.15g}") for v in rng.standard_normal(n)],
        "full_repr": [float(v) for v in rng.standard_normal(n) / 3],
        "whole": [float(v) for v in rng.integers(-5, 5, size=n)],  # 3.0, written "3.0"
        "ints": [int(v) for v in rng.integers(-(10**12), 10**12, size=n)],
        "huge_ints": [2**64 + i for i in range(n)],
        "mixed": [1 if i % 2 else 0.25 * i for i in range(n)],
        "hidden": [
            json.dumps([int(v)] * (i % 3 + 1)) for i, v in enumerate(rng.integers(9, 99, n))
        ],
        "schedule": [search.grid_cell({"kind": "cosine", "warmup": int(v)}) for v in range(n)],
        "position": [str(rng.choice(["before", "after"])) for _ in range(n)],
        "text_and_numbers": ["after", "5", "1e-3", "True", "inf", "[1]", "x y"],
        "flags": [bool(v) for v in rng.integers(0, 2, size=n)],
        "missing": [None if i == 3 else 0.5 for i in range(n)],
        "missing_text": [None if i == 3 else "after" for i in range(n)],
        "infinite": [float("inf") if i == 2 else 1.5 for i in range(n)],
        "nan_word": ["nan" if i == 1 else "after" for i in range(n)],
    }


def test_a_trial_reads_its_grid_row_as_pandas_does(tmp_path, rng, monkeypatch):
    """grid_trial types each column as pandas.read_csv does: the same values, bit for bit, and
    the same Python types, whether it reads the row itself or leaves the grid to pandas."""
    for round_ in range(20):
        columns = grid_columns(rng)
        path = tmp_path / f"grid{round_}.tsv"
        pd.DataFrame({"trial": range(7)} | columns).to_csv(path, sep="\t", index=False)
        table = pd.read_csv(path, sep="\t")
        for row in range(7):
            for name in columns:
                ours = trials.grid_trial(path, row, [name])[name]
                theirs = trials.trial_values({name: table[name].iloc[row]}, [name])[name]
                assert same_value(ours, theirs), (name, row, ours, theirs)
    # a grid of numbers alone: an integer setting stays an int, read by either path
    numbers = tmp_path / "numbers.tsv"
    numbers.write_text("trial\tlr\tn_batch\n0\t0.01\t100\n1\t0.02\t200\n")
    assert same_value(trials.grid_trial(numbers, 1, ["lr", "n_batch"])["n_batch"], 200)
    numbers.write_text("trial\tlr\tn_batch\n0\t0.1234567890123456789\t100\n1\t0.02\t200\n")
    assert same_value(trials.grid_trial(numbers, 1, ["lr", "n_batch"])["n_batch"], 200)
    # the columns a search writes are read without pandas; the others are left to it
    read_by_pandas = []
    real = pd.read_csv
    monkeypatch.setattr(pd, "read_csv", lambda *a, **k: read_by_pandas.append(1) or real(*a, **k))
    ours = {"lam", "digits15", "whole", "ints", "mixed", "hidden", "schedule", "position"}
    ours |= {"text_and_numbers"}
    for name in set(columns) - {"wide_range"}:  # read by either, as its magnitudes fall
        read_by_pandas.clear()
        trials.grid_trial(path, 0, [name])
        assert bool(read_by_pandas) is (name not in ours), name


def test_a_history_is_read_by_column_as_pandas_reads_it(tmp_path, rng):
    """read_columns: numeric columns as NumPy arrays with pandas' dtypes and values (NaN for an
    empty cell); anything else is left to pandas, whose frame it returns."""
    history = [
        {
            "update": i,
            "epoch": i / 7,
            "eta": float(rng.choice([1e-5, 0.1, 2.5e-22])),
            "loss": float(rng.standard_normal() * 10.0 ** rng.integers(-8, 9)),
            "missing": float("nan") if i % 3 == 0 else 1.5,
            "big": 10**15 + i,
        }
        for i in range(300)
    ]
    path = tmp_path / "history.tsv"
    io.write_records(path, history)
    columns, frame = io.read_columns(path), pd.read_csv(path, sep="\t")
    assert isinstance(columns, dict) and list(columns) == list(frame.columns)
    for name, values in columns.items():
        assert values.dtype == frame[name].dtype, name
        assert values.tobytes() == frame[name].to_numpy().tobytes(), name
    header_only = tmp_path / "header.tsv"
    header_only.write_text("x\ty\n")
    assert isinstance(io.read_columns(header_only), pd.DataFrame)
    header_only.write_text("")
    with pytest.raises(pd.errors.EmptyDataError):  # pandas' own error, not an IndexError
        io.read_columns(header_only)
    for cells in (["a", "b"], ["1", "inf"], ["1", " 2"], [str(2**70), "1"]):
        other = tmp_path / "other.tsv"
        other.write_text("x\ty\n" + "".join(f"{c}\t1\n" for c in cells))
        back = io.read_columns(other)
        assert isinstance(back, pd.DataFrame), cells  # left to pandas
        pd.testing.assert_frame_equal(back, pd.read_csv(other, sep="\t"))


def test_a_training_job_imports_no_pandas_until_it_is_done(tmp_path):
    """train.py's imports, its search trial's values and its history, then a figure of that
    history: nothing imports pandas (0.3 s of start-up)."""
    grid = tmp_path / "grid.tsv"
    spec = {
        "lam": {"distribution": "log10_uniform", "low": -5, "high": -1},
        "hidden": {"distribution": "choice", "values": [[50], [100, 100]]},
        "batch_norm_position": {"distribution": "choice", "values": ["before", "after"]},
        "keep_prob": {"distribution": "uniform", "low": 0.5, "high": 1.0},
        "schedule": {"distribution": "choice", "values": [{"kind": "cosine"}, {"kind": "step"}]},
    }
    search.random_grid(search.random_trials(spec, 20, seed=3)).to_csv(grid, sep="\t", index=False)
    code = f"""
import sys
from dd2424.io import map_arrays, provenance, save_arrays, setup_logging, write_records
from dd2424.mlp.range_test import apply_proposal
from dd2424.mlp.runs import run
from dd2424.trials import apply_trial, grid_trial
values = grid_trial({str(grid)!r}, 7, {list(spec)!r})
assert set(values) == {set(spec)!r}, values
write_records({str(tmp_path / "h.tsv")!r}, [{{"update": u, "eta": 0.1, "train_loss": 2.0,
    "val_loss": 2.1, "train_cost": 2.2, "val_cost": 2.3, "train_acc": 0.1, "val_acc": 0.2}}
    for u in range(3)])
print(sorted(m for m in ("pandas", "matplotlib") if m in sys.modules))
from dd2424.io import read_columns
from dd2424.report.plots import training_curves
history = read_columns({str(tmp_path / "h.tsv")!r})
training_curves(history, "t", {str(tmp_path / "h.png")!r}, x="update")  # a figure job
print("pandas" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "False"], out.stdout + out.stderr


def test_timing_lines_count_from_the_process_start(caplog):
    assert 0 < clock.since_start() < 3600  # the suite has been running, not for an hour
    with caplog.at_level(logging.INFO, logger="dd2424.timing"):
        clock.mark("test mark")
        clock.mark("test mark")  # once per process
        clock.mark("test again", once=False)
        clock.mark("test again", once=False)
    lines = [r.getMessage() for r in caplog.records]
    assert sum("[timing] test mark " in line for line in lines) == 1
    assert sum("[timing] test again " in line for line in lines) == 2
    seconds = float(lines[0].split()[3])
    assert 0 < seconds <= clock.since_start() + 0.001  # printed to the millisecond
    # what the benchmarks read back: each mark, a repeated one with its last value
    again = [float(line.split()[3]) for line in lines if "test again" in line]
    assert clock.marks("\n".join(lines)) == {"test mark": seconds, "test again": again[-1]}
