"""Redaction through the real CLI: no spoken number survives in any file written, and
the player gets a copy of the recording with the spans replaced by a tone."""

from __future__ import annotations

import re
import sqlite3

import numpy as np
import pytest
from callsynth.speech import place, say, write_wav

from callcoach.cli import main
from callcoach.records import result_from_dict, result_to_dict
from callcoach.speech.audio import load_audio

NUMBER_WORDS = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
# a card number as the recogniser writes it: "4111 ...", "four one one one ...", or "41, 1, 2, 2, ..."
LONG_DIGITS = re.compile(rf"\d{{4,}}|(?:\b{NUMBER_WORDS}\b[\s,.-]+){{3}}\b{NUMBER_WORDS}\b|(?:\b\d+\b[\s,.-]+){{3,}}\b\d+\b",
                         re.IGNORECASE)


@pytest.fixture(scope="module")
def call_with_card(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pii")
    agent = [
        (0.5, say("Thank you for calling Northwind Bank, this is Dana, how can I help you today?", "flite:slt")),
        (11.5, say("Thank you. Could you read me the long number on the front of your card?", "flite:slt")),
        (25.0, say("Thank you, I have blocked the card and a new one will arrive within five days.", "flite:slt")),
    ]
    customer = [
        (6.0, say("Hi, I lost my card yesterday and I need to block it.", "espeak:en-us+m3")),
        (16.5, say("Yes, it is four one one one, two two two two, three three three three, four four four four.", "espeak:en-us+m3")),
    ]
    total = 32.0
    stereo = np.stack([place(agent, total), place(customer, total)])
    return write_wav(folder / "lost card.wav", stereo)


def _all_text(out):
    texts = {}
    for path in out.iterdir():
        if path.suffix in (".json", ".csv"):
            texts[path.name] = path.read_text(encoding="utf-8")
        elif path.suffix == ".html":
            # what a reader sees and what the page carries as data, not the stylesheet's colour codes
            html = re.sub(r"(?s)<style.*?</style>", " ", path.read_text(encoding="utf-8"))
            texts[path.name] = re.sub(r"(?s)<[^>]+>", " ", html) + " ".join(re.findall(r'(?:title|aria-label|data-[a-z]+)="([^"]*)"', html))
        elif path.suffix == ".sqlite":
            con = sqlite3.connect(path)
            rows = []
            for (table,) in con.execute("select name from sqlite_master where type='table'"):
                rows += [" ".join(map(str, r)) for r in con.execute(f"select * from {table}")]
            texts[path.name] = "\n".join(rows)
    return texts


def test_default_redaction_leaves_no_card_number_and_plays_only_the_toned_copy(call_with_card, tmp_path):
    off = tmp_path / "off"
    assert main(["score", str(call_with_card), "--out", str(off), "--redact", "off", "--quiet"]) == 0
    import json

    said = " ".join(t["text"] for t in json.loads((off / "lost_card.json").read_text())["turns"])
    spoken = {m.group(0).strip(" ,.-").lower() for m in LONG_DIGITS.finditer(said)}
    assert spoken, f"the unredacted transcript should hold the card number (else this test proves nothing): {said}"

    out = tmp_path / "text"
    assert main(["score", str(call_with_card), "--out", str(out), "--quiet"]) == 0
    texts = _all_text(out)
    assert {"lost_card.json", "lost_card.html", "calls.csv", "index.html"} <= set(texts)
    for name, text in texts.items():
        for number in spoken:
            assert number not in text.lower(), f"{name} still holds {number!r}"
    data = json.loads(texts["lost_card.json"])
    quoted = [t["text"] for t in data["turns"]] + [w["text"] for t in data["turns"] for w in t["words"]]
    quoted += [e["text"] for c in data["scorecard"]["checks"] for e in c["evidence"]] + [e["detail"] for e in data["events"]]
    found = LONG_DIGITS.search(" ".join(quoted))
    assert not found, f"the result still quotes a digit sequence: {found.group(0)!r}"
    assert "[CARD]" in texts["lost_card.json"] or "[NUMBER]" in texts["lost_card.json"]
    # the player plays the toned copy, never the original (it would play what the text hides)
    html = (out / "lost_card.html").read_text(encoding="utf-8")
    assert re.findall(r'<audio[^>]* src="([^"]*)"', html) == ["lost_card.redacted.ogg"]


def test_text_and_audio_writes_a_toned_copy_for_the_player(call_with_card, tmp_path):
    out = tmp_path / "audio"
    assert main(["score", str(call_with_card), "--out", str(out), "--redact", "text+audio", "--quiet"]) == 0
    html = (out / "lost_card.html").read_text()
    sources = re.findall(r'src="([^"]*)"', html)
    assert sources == ["lost_card.redacted.ogg"]  # text+audio: the same compact copy as the default
    import json

    text = (out / "lost_card.json").read_text()
    spans = json.loads(text)["meta"]["redaction"]["spans"]
    assert spans
    # meta.redaction reads back into its typed record and writes out the same
    assert json.dumps(result_to_dict(result_from_dict(json.loads(text))), indent=2, ensure_ascii=False) == text
    copy = out / "lost_card.redacted.ogg"
    assert copy.stat().st_size < 0.25 * call_with_card.stat().st_size  # Opus, not a 16 kHz WAV
    redacted = load_audio(copy)
    for span in spans:
        a, b = int((span["start_s"] + 0.05) * 16000), int((span["end_s"] - 0.05) * 16000)
        part = redacted.samples[1, a:b]
        spectrum = np.abs(np.fft.rfft(part))
        peak_hz = np.argmax(spectrum) * 16000 / len(part)
        assert peak_hz == pytest.approx(1000, abs=15)
        level_db = 20 * np.log10(np.sqrt(np.mean(part**2)))
        assert level_db == pytest.approx(-23, abs=2)  # a -20 dBFS peak sine is -23 dB RMS


def test_demo_call_with_spoken_numbers_leaves_none_in_any_output(tmp_path):
    """calm_billing reads out a meter reading and a reference number."""
    import json
    import shutil
    from pathlib import Path

    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(Path(__file__).resolve().parents[2] / "audio_samples" / "calm_billing.wav", src)
    off, on = tmp_path / "off", tmp_path / "on"
    assert main(["score", str(src), "--out", str(off), "--redact", "off", "--quiet"]) == 0
    said = " ".join(t["text"] for t in json.loads((off / "calm_billing.json").read_text())["turns"])
    assert main(["score", str(src), "--out", str(on), "--quiet"]) == 0
    texts = _all_text(on)
    data = json.loads(texts["calm_billing.json"])
    quoted = " ".join(t["text"] for t in data["turns"])
    assert not LONG_DIGITS.search(quoted), LONG_DIGITS.search(quoted)
    for number in {m.group(0).strip(" ,.-").lower() for m in LONG_DIGITS.finditer(said)}:
        for name, text in texts.items():
            assert number not in text.lower(), f"{name} still holds {number!r}"
