"""Every bad input through the real CLI (``callcoach.cli.main`` and once the installed console script):
each exits with the documented status and one clear line naming the file; the good files are still scored."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from callsynth.shortcalls import write_short_call
from callsynth.speech import RATE, write_wav

from callcoach import __version__
from callcoach.cli import main

CONSOLE_SCRIPT = Path(sys.executable).with_name("callcoach")
UNICODE_NAME = "Ünïcode call 1.wav"


def _bad_files(folder: Path) -> dict[str, str]:
    """Write one file per bad-input kind; returns file name -> the words its error line must hold."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.wav").write_bytes(b"")
    (folder / "notes.wav").write_text("this is a text file, not audio\n" * 20)
    good = folder / "_tmp_full.wav"
    write_short_call(good, 1)
    data = good.read_bytes()
    (folder / "truncated.wav").write_bytes(data[:44 + 2000])  # the header promises 4 s, 0.06 s are there
    good.unlink()
    write_wav(folder / "silence.wav", np.zeros(RATE * 3, dtype=np.float32))
    write_wav(folder / "blip.wav", (0.1 * np.sin(np.arange(int(0.3 * RATE)) * 0.2)).astype(np.float32))
    return {
        "empty.wav": "empty",
        "notes.wav": "not an audio file",
        "truncated.wav": "truncated",
        "silence.wav": "silent",
        "blip.wav": "too short",
    }


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    """One folder with a good call, a good call with spaces and non-ASCII letters in its name, and every bad kind,
    scored through the installed console script in a subprocess."""
    root = tmp_path_factory.mktemp("mixed")
    src = root / "calls"
    expected = _bad_files(src)
    write_short_call(src / "good.wav", 0)
    write_short_call(src / UNICODE_NAME, 2)
    out = root / "reports"
    proc = subprocess.run(
        [str(CONSOLE_SCRIPT), "score", str(src), "--out", str(out), "--workers", "1", "--quiet"],
        capture_output=True, text=True, timeout=600,
    )
    return proc, src, out, expected


def test_folder_with_good_and_bad_files_scores_the_good_and_exits_1(mixed_run):
    proc, src, out, expected = mixed_run
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(expected), proc.stderr
    for name, words in expected.items():
        lines = [line for line in errors if f"{src / name}:" in line]
        assert len(lines) == 1 and words in lines[0], (name, proc.stderr)
    assert "scored 2 call(s), skipped 0 (already done), 5 failed" in proc.stderr
    for call_id in ("good", "Ünïcode_call_1"):
        data = json.loads((out / f"{call_id}.json").read_text(encoding="utf-8"))
        assert data["call"]["id"] == call_id and (out / f"{call_id}.html").is_file()
    assert json.loads((out / "Ünïcode_call_1.json").read_text(encoding="utf-8"))["call"]["source"] == UNICODE_NAME
    rows = list(csv.DictReader((out / "calls.csv").open(encoding="utf-8")))
    assert sorted(r["call_id"] for r in rows) == ["good", "Ünïcode_call_1"]
    assert "Ünïcode_call_1.html" in (out / "index.html").read_text(encoding="utf-8")
    with sqlite3.connect(out / "callcoach.sqlite") as db:
        status = dict(db.execute("SELECT call_id, status FROM calls"))
    assert status["good"] == "scored" and status["empty"] == "failed" and len(status) == 7


@pytest.mark.parametrize(
    "name, words",
    [("empty.wav", "file is empty"), ("notes.wav", "not an audio file"), ("truncated.wav", "truncated"),
     ("silence.wav", "silent"), ("blip.wav", "too short")],
)
def test_each_bad_file_alone_exits_1_naming_it(tmp_path, capsys, name, words):
    _bad_files(tmp_path / "in")
    path = tmp_path / "in" / name
    code = main(["score", str(path), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"error: {path}: " in err and words in err
    assert not (tmp_path / "out" / f"{path.stem}.json").exists()


def test_missing_path_exits_1(tmp_path, capsys):
    missing = tmp_path / "nowhere.wav"
    assert main(["score", str(missing), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"]) == 1
    assert f"error: {missing}: file not found" in capsys.readouterr().err


def test_output_folder_that_is_a_file_is_a_usage_error(tmp_path, capsys):
    target = tmp_path / "out.txt"
    target.write_text("mine")
    write_short_call(tmp_path / "a.wav")
    assert main(["score", str(tmp_path / "a.wav"), "--out", str(target), "--quiet"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert target.read_text() == "mine"


def test_output_folder_holding_a_users_file_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("my own page")
    write_short_call(tmp_path / "a.wav")
    assert main(["score", str(tmp_path / "a.wav"), "--out", str(out), "--quiet"]) == 2
    assert "callcoach did not write" in capsys.readouterr().err
    assert (out / "index.html").read_text() == "my own page"
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"callcoach {__version__}"
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0 and "score" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["score", "--help"])
    text = capsys.readouterr().out
    assert exc.value.code == 0 and all(f in text for f in ("--workers", "--force", "--metadata", "--log-file", "--engine", "--rehear-model"))
    assert main([]) == 2


@pytest.mark.parametrize(
    "args, words",
    [(["--workers", "0"], "--workers must be 1 or more"),
     (["--metadata", "nope.csv"], "--metadata nope.csv: file not found"),
     (["--beam-size", "0"], "--beam-size must be 1 or more"),
     (["--rehear-model", "nope-model"], "(--rehear-model; 'off' for none): unknown speech model 'nope-model'"),
     (["--voiceprint-model", "nope.onnx"], "--voiceprint-model nope.onnx: not found")],
)
def test_bad_options_are_usage_errors(tmp_path, capsys, args, words):
    write_short_call(tmp_path / "a.wav")
    assert main(["score", str(tmp_path / "a.wav"), "--out", str(tmp_path / "out"), "--quiet", *args]) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_voiceprint_model_that_is_not_a_campp_export_fails_before_scoring(tmp_path, capsys):
    call = write_short_call(tmp_path / "a.wav")
    assert main(["score", str(call), "--out", str(tmp_path / "out"), "--quiet", "--voiceprint-model", str(call)]) == 2
    assert f"--voiceprint-model: {call}: the CAM++ voice-print model could not be loaded" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_unknown_option_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["score", "x.wav", "--out", "o", "--wrokers", "2"])
    assert exc.value.code == 2


def test_bad_metadata_csv_names_file_line_and_column(tmp_path, capsys):
    write_short_call(tmp_path / "a.wav")
    meta = tmp_path / "meta.csv"
    meta.write_text("file,agent,direction\na.wav,anna,sideways\n")
    assert main(["score", str(tmp_path / "a.wav"), "--out", str(tmp_path / "out"), "--quiet", "--metadata", str(meta)]) == 2
    assert f"{meta}: line 2, column 3 (direction): 'sideways' is not a direction" in capsys.readouterr().err


def test_report_rebuilds_index_from_the_store_without_audio(mixed_run, tmp_path, capsys):
    _, _, out, _ = mixed_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "index.html").unlink()
    (copy / "calls.csv").unlink()
    for p in copy.glob("*.json"):
        p.unlink()  # the store alone is enough
    assert main(["report", str(copy)]) == 0
    assert "from 2 result(s)" in capsys.readouterr().err
    rows = list(csv.DictReader((copy / "calls.csv").open(encoding="utf-8")))
    assert sorted(r["call_id"] for r in rows) == ["good", "Ünïcode_call_1"]
    assert (copy / "index.html").is_file()


def test_report_on_a_folder_that_is_not_a_report_folder(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a folder of callcoach reports" in capsys.readouterr().err


def test_truncated_wav_header_promises_more_than_it_holds(tmp_path):
    _bad_files(tmp_path)
    with wave.open(str(tmp_path / "truncated.wav")) as w:
        assert w.getnframes() * 2 > (tmp_path / "truncated.wav").stat().st_size - 44


def test_rttm_export_of_a_report_folder_matches_the_json(mixed_run, tmp_path, capsys):
    _, _, out, _ = mixed_run
    target = tmp_path / "calls.rttm"
    assert main(["rttm", str(out), "--roles", "-o", str(target)]) == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    result = json.loads((out / "good.json").read_text(encoding="utf-8"))
    good = [line.split() for line in lines if line.split()[1] == "good"]
    assert len(good) == len(result["speech"]) > 0
    roles = {s["id"]: s["role"] for s in result["speakers"]}
    for fields_, seg in zip(good, sorted(result["speech"], key=lambda s: (s["start_s"], s["speaker"]))):
        assert fields_[0] == "SPEAKER" and fields_[2] == "1"
        assert float(fields_[3]) == pytest.approx(seg["start_s"], abs=1e-3)
        assert float(fields_[4]) == pytest.approx(seg["end_s"] - seg["start_s"], abs=2e-3)
        assert fields_[7] == roles[seg["speaker"]]
    # the call whose name has spaces keeps one token per field
    assert any(line.split()[1] == "Ünïcode_call_1" and len(line.split()) == 10 for line in lines)
    capsys.readouterr()
    assert main(["rttm", str(out), "-o", str(target)]) == 2  # never replaces a file without --overwrite
    assert "already exists" in capsys.readouterr().err


def test_rttm_export_of_a_file_that_is_not_a_result(tmp_path, capsys):
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": 1}', encoding="utf-8")
    assert main(["rttm", str(bad)]) == 2
    assert f"{bad}: no 'speech' segments" in capsys.readouterr().err


def test_eval_scores_each_stereo_call_again_as_its_mono_mix(tmp_path, capsys):
    samples = Path(__file__).resolve().parents[2] / "audio_samples"
    for name in ("calm_billing.wav", "calm_billing.truth.json"):
        shutil.copy(samples / name, tmp_path / name)
    assert main(["eval", str(tmp_path), "--mono-mix", "--baseline", "off"]) == 0
    out = capsys.readouterr().out
    per_condition = out.split("### Per condition")[1].split("###")[0]
    rows = [line.split("|")[1].strip() for line in per_condition.splitlines() if line.startswith("| clean")]
    assert rows == ["clean", "clean+mono"], per_condition
    header = next(line for line in per_condition.splitlines() if line.startswith("| condition"))
    names = [h.strip() for h in header.strip("|").split("|")]
    for line in per_condition.splitlines():
        if line.startswith("| clean"):
            cells = dict(zip(names[:7], [c.strip() for c in line.strip("|").split("|")]))
            low, high = map(float, line.strip("|").split("|")[7].split("-"))
            assert low <= float(cells["check agreement"]) <= high, line  # one call: the interval is the figure
