"""Events, summaries and trajectory on synthetic calls whose answers are known.

Voices are harmonic complexes under a three-formant envelope, with a slow
intonation wobble and a 4 Hz syllable-rate amplitude modulation; words are
evenly spaced, so their rate is known exactly.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from callcoach.analysis.baselines import raised_margins, spread
from callcoach.analysis.events import ProsodyResult, analyse, raised_voice, rapid_limit
from callcoach.analysis.prosody import HOP_S as HOP
from callcoach.analysis.prosody import Baseline, SpeakerFrames
from callcoach.analysis.trajectory import is_upset
from callcoach.analysis.turn_taking import customer_upset_spans, is_backchannel, patience_violations
from callcoach.records import Audio, AudioInfo, Diarization, Event, SpeechSegment, Turn, Word
from callcoach.settings import EventThresholds

SR = 16_000
TH = EventThresholds()
FORMANTS = ((500.0, 90.0), (1500.0, 140.0), (2500.0, 200.0))
TEXT = "please listen the order never arrived and nobody called me back about it today".split()


# --------------------------------------------------------------------------- factories


def voice(total_s: float, parts: list[tuple[float, float, float, float]], *, seed: int = 0, noise_db: float = -70.0) -> np.ndarray:
    """One channel: ``parts`` = (start_s, end_s, f0_hz, level_dbfs) of voiced speech, low noise elsewhere."""
    rng = np.random.default_rng(seed)
    n = int(total_s * SR)
    t = np.arange(n) / SR
    f0 = np.zeros(n)
    gain = np.zeros(n)
    for a, b, hz, db in parts:
        i, j = int(a * SR), int(b * SR)
        f0[i:j] = hz
        gain[i:j] = 10 ** (db / 20)
    ramp = np.hanning(int(0.04 * SR))  # 20 ms fades: no clicks at level and pitch steps
    ramp /= ramp.sum()
    gain = np.convolve(gain, ramp, mode="same")
    f0 = f0 * (1 + 0.03 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    x = np.zeros(n)
    top = max(hz for _, _, hz, _ in parts)
    low = min(hz for _, _, hz, _ in parts)
    for k in range(1, int(3800 / low)):
        amp = sum(1.0 / (1 + ((k * top - fc) / bw) ** 2) for fc, bw in FORMANTS) + 0.05
        x += np.where(k * f0 < 3800, amp * np.sin(k * phase), 0.0)
    am = 0.3 + 0.7 * np.sin(np.pi * 4.0 * t + rng.uniform(0, 3)) ** 2
    x *= am
    x /= np.sqrt(np.mean(x[gain > 0] ** 2)) if np.any(gain > 0) else 1.0
    x = x * gain + rng.normal(0, 10 ** (noise_db / 20), n)
    return x.astype(np.float32)


def make_audio(*channels: np.ndarray) -> Audio:
    samples = np.stack(channels).astype(np.float32)
    info = AudioInfo("synthetic.wav", samples.shape[1] / SR, SR, samples.shape[0])
    return Audio(info, samples, SR)


def silence(total_s: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1e-4, int(total_s * SR)).astype(np.float32)


def words(speaker: str, start_s: float, end_s: float, n: int, texts: list[str] | None = None) -> tuple[Word, ...]:
    """``n`` words evenly spread over [start, end): each word fills 85% of its slot (rate = 60 n / (end - start))."""
    slot = (end_s - start_s) / n
    texts = texts or [TEXT[i % len(TEXT)] for i in range(n)]
    return tuple(Word(texts[i], start_s + i * slot, start_s + (i + 0.85) * slot, 0.9, speaker) for i in range(n))


def turn(speaker: str, start_s: float, end_s: float, n: int, role: str = "unknown", texts: list[str] | None = None) -> Turn:
    ws = words(speaker, start_s, end_s, n, texts)
    return Turn(speaker, role, start_s, ws[-1].end_s, " ".join(w.text for w in ws), ws)


def diarization(turns: list[Turn], *, stereo: bool = True) -> Diarization:
    speakers = sorted({t.speaker for t in turns})
    segments = tuple(sorted((SpeechSegment(t.speaker, t.start_s, t.end_s) for t in turns), key=lambda s: s.start_s))
    channel_of = {s: i for i, s in enumerate(speakers)} if stereo else {}
    return Diarization(segments, tuple(speakers), "test", channel_of)


ROLES = {"A": "agent", "C": "customer"}


def run(audio: Audio, turns: list[Turn], *, stereo: bool = True, text_events: tuple[Event, ...] = (), th: EventThresholds = TH) -> ProsodyResult:
    turns = sorted(turns, key=lambda t: t.start_s)
    return analyse(audio, diarization(turns, stereo=stereo), tuple(turns), ROLES, {"A": 0.9, "C": 0.9}, text_events, th)


def of_type(result: ProsodyResult, kind: str) -> list[Event]:
    return [e for e in result.events if e.type == kind]


def customer_call(raised: tuple[float, float] | None = None, *, customer_db: float = -26.0, agent_db: float = -26.0, total_s: float = 45.0):
    """Agent speaks 0-9 s, customer 10-40 s (one long turn per 5 s), agent again 41-45 s."""
    agent_parts = [(0.0, 9.0, 120.0, agent_db), (41.0, 44.8, 120.0, agent_db)]
    cust_parts = [(10.0, 40.0, 200.0, customer_db)]
    if raised:
        a, b = raised
        cust_parts = [(10.0, a, 200.0, customer_db), (a, b, 240.0, customer_db + 10.0), (b, 40.0, 200.0, customer_db)]
    turns = [turn("A", 0.0, 9.0, 24), turn("A", 41.0, 44.8, 10)]
    turns += [turn("C", s, s + 4.9, 13) for s in np.arange(10.0, 40.0, 5.0)]
    return voice(total_s, agent_parts, seed=1), voice(total_s, cust_parts, seed=2), turns


# --------------------------------------------------------------------------- raised voice


def test_raised_customer_gets_one_event_at_the_right_time() -> None:
    a, c, turns = customer_call(raised=(24.0, 28.0))
    result = run(make_audio(a, c), turns)
    raised = of_type(result, "raised_voice")
    assert len(raised) == 1, result.events
    event = raised[0]
    assert (event.role, event.speaker) == ("customer", "C")
    assert abs(event.start_s - 24.0) < 0.75 and abs(event.end_s - 28.0) < 0.75
    assert "dB" in event.detail and "pitch" in event.detail
    assert abs(result.baselines["C"].loudness_db - -26.0) < 1.5


@pytest.mark.parametrize("pitch_hz,raised", [(260.0, True), (200.0, False)])
def test_small_level_rise_is_raised_only_with_a_strong_pitch_rise(pitch_hz: float, raised: bool) -> None:
    """+4.5 dB alone is within calm variation; with pitch x1.3 it is a shout (settings: strong pitch)."""
    a, c, turns = customer_call()
    cust_parts = [(10.0, 24.0, 200.0, -26.0), (24.0, 28.0, pitch_hz, -21.5), (28.0, 40.0, 200.0, -26.0)]
    agent_parts = [(0.0, 9.0, 120.0, -26.0), (41.0, 44.8, 120.0, -26.0)]
    result = run(make_audio(voice(45.0, agent_parts, seed=1), voice(45.0, cust_parts, seed=2)), turns)
    found = [(e.speaker, round(e.start_s)) for e in of_type(result, "raised_voice")]
    assert (found != []) is raised, result.events
    if raised:
        assert found[0][0] == "C" and abs(found[0][1] - 24) <= 1


@pytest.mark.parametrize("own_turn", [False, True])
def test_loud_start_of_a_long_turn_or_a_short_loud_turn_alone_is_not_raised(own_turn: bool) -> None:
    """1.4 s at +8 dB and x1.2 pitch: the stressed first words of a 14 s turn, or a short turn of its own
    among calm ones ("Thank you!", "Oh, okay!"): real speech does that without anyone being upset."""
    cust_parts = [(10.0, 11.4, 240.0, -18.0), (11.4, 24.0, 200.0, -26.0), (26.0, 40.0, 200.0, -26.0)]
    agent_parts = [(0.0, 9.0, 120.0, -26.0), (41.0, 44.8, 120.0, -26.0)]
    first = [turn("C", 10.0, 11.4, 4), turn("C", 11.6, 24.0, 33)] if own_turn else [turn("C", 10.0, 24.0, 37)]
    turns = [turn("A", 0.0, 9.0, 24), turn("A", 41.0, 44.8, 10), *first, turn("C", 26.0, 33.0, 19), turn("C", 33.0, 40.0, 19)]
    result = run(make_audio(voice(45.0, agent_parts, seed=1), voice(45.0, cust_parts, seed=2)), turns)
    found = [round(e.start_s) for e in of_type(result, "raised_voice")]
    assert found == [], result.events


def test_short_raised_turns_in_a_row_are_a_sustained_raised_voice() -> None:
    """Two short shouts (4 and 5 words, 1.4 s each) with the agent speaking between them and no calm
    words of the customer's: one raised run of 9 words, so both are raised (as "I can't afford this!"
    between two other raised turns in the corpus)."""
    cust = [(10.0, 11.4, 240.0, -18.0), (13.4, 14.8, 240.0, -18.0), (17.0, 40.0, 200.0, -26.0)]
    agent = [(0.0, 9.0, 120.0, -26.0), (11.6, 13.2, 120.0, -26.0), (41.0, 44.8, 120.0, -26.0)]
    turns = [turn("A", 0.0, 9.0, 24), turn("A", 11.6, 13.2, 4), turn("A", 41.0, 44.8, 10),
             turn("C", 10.0, 11.4, 4), turn("C", 13.4, 14.8, 5)] + [turn("C", s, s + 4.9, 13) for s in np.arange(17.0, 40.0, 5.0)]
    result = run(make_audio(voice(45.0, agent, seed=1), voice(45.0, cust, seed=2)), turns)
    assert [round(e.start_s) for e in of_type(result, "raised_voice")] == [10, 13], result.events


def test_raised_thresholds_follow_the_speakers_spread() -> None:
    th = EventThresholds()

    def margins(loud_spread, pitch_spread=None):
        return raised_margins(Baseline(-26.0, 200.0, None, None, None, loud_spread, pitch_spread), th)

    assert margins(1.0) == (0.0, 1.0)  # a synthetic voice's spread: the fixed thresholds
    assert margins(3.0)[0] == pytest.approx(3 * 3.0 - th.raised_loudness_db)  # a real voice's: k x spread
    assert margins(None)[0] == pytest.approx(th.raised_spread_k * th.raised_unknown_spread_db - th.raised_loudness_db)
    _, factor = margins(1.0, 2.0)  # pitch spread 2 semitones: strong pitch needs k x 2 = 6 semitones
    assert th.raised_strong_pitch_ratio * factor == pytest.approx(2 ** (6 / 12))


def test_spread_is_that_of_ordinary_speech() -> None:
    """Robust to a speaker raised for most of the call: pieces far above the baseline are left out."""
    rng = np.random.default_rng(0)
    calm = list(-26.0 + rng.normal(0.0, 1.0, 40))
    raised = list(-17.0 + rng.normal(0.0, 1.0, 80))
    assert spread(calm + raised, -27.0, 5.0) == pytest.approx(1.0, abs=0.3)
    assert spread(calm[:9], -27.0, 5.0) is None  # too few pieces to tell
    assert spread(raised, -27.0, 5.0) == 0.0  # none near the baseline: no sign of wide ordinary variation


@pytest.mark.parametrize(("loud_spread_db", "raised"), [(1.0, True), (3.0, False)])
def test_real_like_variation_raises_the_bar_for_a_raised_voice(loud_spread_db: float, raised: bool) -> None:
    """A 3 s, 10-word stretch at +7 dB and x1.1 pitch over the baseline: raised for a speaker whose ordinary
    speech varies by 1 dB (a synthetic voice), ordinary emphasis for one whose varies by 3 dB (real speech)."""
    n = int(30.0 / HOP)
    loud = np.full(n, -26.0, dtype=np.float32)
    pitch = np.full(n, 200.0, dtype=np.float32)
    i, j = int(10.0 / HOP), int(13.0 / HOP)
    loud[i:j], pitch[i:j] = -19.0, 220.0
    frames = SpeakerFrames("C", loud, pitch, np.ones(n, dtype=bool))
    base = Baseline(-26.0, 200.0, None, None, None, loud_spread_db, 1.0)
    turns = [turn("C", 2.0, 9.0, 20), turn("C", 10.0, 13.0, 10), turn("C", 14.0, 28.0, 40)]
    found = raised_voice(frames, base, "customer", TH, turns)
    assert [round(e.start_s) for e in found] == ([10] if raised else [])


def test_raised_customer_on_mono_mix() -> None:
    a, c, turns = customer_call(raised=(24.0, 28.0))
    result = run(make_audio(a + c), turns, stereo=False)
    raised = of_type(result, "raised_voice")
    assert [(e.speaker, round(e.start_s)) for e in raised] in ([("C", 24)], [("C", 23)], [("C", 25)])


@pytest.mark.parametrize("stereo", [True, False])
def test_naturally_loud_speaker_is_not_raised(stereo: bool) -> None:
    a, c, turns = customer_call(customer_db=-16.0, agent_db=-30.0)
    audio = make_audio(a, c) if stereo else make_audio(a + c)
    result = run(audio, turns, stereo=stereo)
    assert of_type(result, "raised_voice") == []
    summary = {s.id: s for s in result.speakers}
    assert summary["C"].loudness_db - summary["A"].loudness_db == pytest.approx(14.0, abs=1.5)


def test_gain_change_on_both_channels_is_not_a_raised_voice() -> None:
    a, c, turns = customer_call()
    bump = np.ones(a.size, dtype=np.float32)
    bump[int(20 * SR) : int(22 * SR)] = 10 ** (7 / 20)  # recording level +7 dB for 2 s, no pitch change
    result = run(make_audio(a * bump, c * bump), turns)
    assert of_type(result, "raised_voice") == []


def test_whole_call_gain_does_not_change_events() -> None:
    a, c, turns = customer_call(raised=(24.0, 28.0))
    loud = run(make_audio(a, c), turns)
    quiet = run(make_audio(a * 0.05, c * 0.05), turns)  # -26 dB
    assert [(e.type, e.start_s, e.end_s) for e in loud.events] == [(e.type, e.start_s, e.end_s) for e in quiet.events]
    assert quiet.baselines["C"].loudness_db == pytest.approx(loud.baselines["C"].loudness_db - 26.0, abs=0.3)


def test_calm_call_has_no_raised_or_rapid_events() -> None:
    a, c, turns = customer_call()
    result = run(make_audio(a, c), turns)
    assert [e.type for e in result.events] == []
    assert result.trajectory == "not_upset"


# --------------------------------------------------------------------------- rapid speech


def test_rapid_words_after_calm_baseline() -> None:
    turns = [turn("C", s, s + 6.0, 16) for s in (0.0, 8.0, 16.0, 24.0)]  # 160 wpm
    turns.append(turn("C", 32.0, 38.0, 25))  # 250 wpm
    turns.append(turn("A", 39.0, 43.0, 10))
    result = run(make_audio(silence(44.0), silence(44.0, 1)), turns)
    rapid = of_type(result, "rapid_speech")
    assert len(rapid) == 1, result.events
    assert (rapid[0].speaker, rapid[0].role) == ("C", "customer")
    assert abs(rapid[0].start_s - 32.0) < 0.3 and abs(rapid[0].end_s - 38.0) < 0.3
    assert re.match(r"25\d wpm .*usual 16\d wpm", rapid[0].detail), rapid[0].detail
    assert result.baselines["C"].rate_wpm == pytest.approx(160.0, rel=0.02)


def test_speaker_rapid_all_call_is_caught_by_the_absolute_limit() -> None:
    turns = [turn("A", s, s + 6.0, 23) for s in (0.0, 8.0, 16.0)]  # 230 wpm throughout
    result = run(make_audio(silence(23.0), silence(23.0, 1)), turns)
    assert {e.speaker for e in of_type(result, "rapid_speech")} == {"A"}


def test_rapid_limit_follows_the_speakers_usual_pace() -> None:
    th = EventThresholds()

    def limit(pace):
        return rapid_limit(Baseline(None, None, None, None, pace), th)

    def limit_spread(pace, spread_wpm):
        return rapid_limit(Baseline(None, None, None, None, pace, pace_spread_wpm=spread_wpm), th)

    assert limit(None) == th.rapid_abs_wpm  # no baseline: the absolute line
    assert limit_spread(230.0, 20.0) == th.rapid_abs_wpm  # steadily fast all call: every piece over the line
    assert limit_spread(230.0, 60.0) == 230.0 + th.rapid_spread_k * 60.0  # fast but varied: their own spread
    assert limit(230.0) == th.rapid_abs_wpm  # too little speech to tell: fast all call
    assert limit(120.0) == 180.0  # a slow speaker's limit never drops into the calm band
    assert limit(150.0) == pytest.approx(150.0 * th.rapid_rate_ratio)
    assert limit(170.0) == th.rapid_max_limit_wpm  # 1.35 x 170 = 229.5, capped
    assert limit_spread(180.0, 45.0) == 180.0 + th.rapid_spread_k * 45.0  # a real agent: fluent runs at 250 are theirs


def test_calm_speakers_quicker_sentence_is_not_rapid() -> None:
    # usual pace 168; one sentence at pace ~215 passes the 200 wpm line but is only 1.28x their pace
    turns = [turn("C", s, s + 6.0, 15) for s in (0.0, 8.0, 16.0, 24.0)]
    turns.append(turn("C", 32.0, 38.4, 20))
    result = run(make_audio(silence(40.0), silence(40.0, 1)), turns)
    assert of_type(result, "rapid_speech") == []
    turns[-1] = turn("C", 32.0, 38.0, 20)  # the same words in 6 s: pace 229, rapid
    result = run(make_audio(silence(40.0), silence(40.0, 1)), turns)
    rapid = of_type(result, "rapid_speech")
    assert [(e.speaker, round(e.start_s)) for e in rapid] == [("C", 32)]
    assert "usual 168" in rapid[0].detail, rapid[0].detail


def test_a_few_quick_words_among_slow_speech_are_not_rapid() -> None:
    """A 6-word turn at 300 wpm between turns at 80: its context (10 words, 4 s of the speaker's speech
    around it) is not fast, so it is no rapid speech (short turns have extreme rates)."""
    turns = [turn("C", s, s + 6.0, 8) for s in (0.0, 8.0, 16.0)]
    turns.append(turn("C", 23.0, 24.2, 6))  # 300 wpm
    turns += [turn("C", s, s + 6.0, 8) for s in (26.0, 34.0)]
    result = run(make_audio(silence(41.0), silence(41.0, 1)), turns)
    assert of_type(result, "rapid_speech") == []


def test_steady_calm_rate_is_not_rapid() -> None:
    turns = [turn("A", s, s + 6.0, 16) for s in (0.0, 8.0, 16.0)]
    result = run(make_audio(silence(23.0), silence(23.0, 1)), turns)
    assert of_type(result, "rapid_speech") == []


# --------------------------------------------------------------------------- turn-taking


def _quiet(total_s: float = 20.0) -> Audio:
    return make_audio(silence(total_s), silence(total_s, 1))


def test_interruption_with_overlap_and_words() -> None:
    turns = [turn("A", 0.0, 5.0, 12, "agent"), turn("C", 4.0, 7.0, 6, "customer")]
    result = run(_quiet(), turns)
    (event,) = of_type(result, "interruption")
    assert (event.role, event.speaker) == ("customer", "C")
    assert event.start_s == pytest.approx(4.0) and "A (agent)" in event.detail


def test_agent_interrupting_customer_has_agent_role() -> None:
    turns = [turn("C", 0.0, 5.0, 12), turn("A", 3.8, 8.0, 9)]
    (event,) = of_type(run(_quiet(), turns), "interruption")
    assert (event.role, event.speaker) == ("agent", "A") and "C (customer)" in event.detail


@pytest.mark.parametrize("texts", [["mm-hmm"], ["uh-huh"], ["okay", "yeah"], ["I", "see"],
                                   ["M", "-M", "-H", "-M,", "M"], ["-N"]])  # tiny.en's spelling of a hum
def test_backchannel_overlap_is_not_an_interruption(texts: list[str]) -> None:
    turns = [turn("A", 0.0, 5.0, 12), turn("C", 3.0, 3.6, len(texts), texts=texts)]
    assert of_type(run(_quiet(), turns), "interruption") == []


def test_backchannel_then_taking_the_turn_is_not_an_interruption() -> None:
    texts = ["mm-hmm", "right", "so", "what", "happens", "next", "then"]
    a = turn("A", 0.0, 5.0, 12)
    c = turn("C", 4.0, 7.5, 7, texts=texts)  # "mm-hmm right" over A's last second, the rest after
    c = Turn("C", "unknown", 4.0, 7.5, c.text, (Word("mm-hmm", 4.0, 4.3, 0.9), Word("right", 4.4, 4.6, 0.9)) + tuple(Word(t, 5.2 + 0.4 * i, 5.5 + 0.4 * i, 0.9) for i, t in enumerate(texts[2:])))
    assert of_type(run(_quiet(), [a, c]), "interruption") == []


def _words_turn(speaker: str, start_s: float, texts: list[str], step_s: float = 0.3) -> Turn:
    ws = tuple(Word(t, start_s + i * step_s, start_s + i * step_s + 0.25, 0.9, speaker) for i, t in enumerate(texts))
    return Turn(speaker, "unknown", ws[0].start_s, ws[-1].end_s, " ".join(texts), ws)


@pytest.mark.parametrize(("last", "cut"), [("the", True), ("still", True), ("week.", False)])
def test_sentence_broken_off_soon_after_being_talked_over_is_an_interruption(last: str, cut: bool) -> None:
    """The customer talks over the agent's sentence for 0.3 s and the agent stops there, mid-sentence:
    an interruption although the overlap is short; the same overlap over a finished sentence is not."""
    a = _words_turn("A", 0.0, "the parcel left our depot on Monday and it should reach you this".split() + [last])
    c = _words_turn("C", a.end_s - 0.3, "but I was told it would come yesterday".split())
    events = of_type(run(_quiet(), [a, c]), "interruption")
    assert [(e.speaker, "mid-sentence" in e.detail) for e in events] == ([("C", True)] if cut else [])


def test_cut_off_opened_with_a_backchannel_is_an_interruption() -> None:
    """"Okay, grinding, so that's the motor" said 0.6 s over the customer's sentence, which stops at once:
    the "okay" does not make the cut-off a backchannel (the recogniser closed the cut sentence with a full stop)."""
    c = _words_turn("C", 0.0, "it stops and makes this sort of grinding.".split())
    a = Turn("A", "unknown", c.end_s - 0.6, c.end_s + 2.0, "OK, grinding, so that's the motor then",
             (Word("OK,", c.end_s - 0.6, c.end_s - 0.3, 0.9),)
             + tuple(Word(t, c.end_s + 0.1 + 0.3 * i, c.end_s + 0.35 + 0.3 * i, 0.9)
                     for i, t in enumerate("grinding, so that's the motor then".split())))
    (event,) = of_type(run(_quiet(), [c, a]), "interruption")
    assert event.speaker == "A"


def test_turn_starting_just_before_the_other_ends_is_not_an_interruption() -> None:
    a = turn("A", 0.0, 5.0, 12)
    turns = [a, turn("C", a.end_s - 0.1, a.end_s + 3.0, 8)]
    assert of_type(run(_quiet(), turns), "interruption") == []


def test_backchannel_words() -> None:
    assert is_backchannel([Word("Mm-hmm.", 0, 1, 1)])
    assert is_backchannel([Word("I", 0, 1, 1), Word("see.", 1, 2, 1)])
    assert not is_backchannel([Word("no", 0, 1, 1), Word("wait", 1, 2, 1)])
    assert is_backchannel([Word(t, 0, 1, 1) for t in ("M", "-M", "-H", "-M,", "M")])
    assert not is_backchannel([Word(t, 0, 1, 1) for t in ("M", "-M", "no")])
    hum_then_right = [Word(t, 0, 1, 1) for t in ("M", "-M", "-H", "right", "okay")]
    assert is_backchannel(hum_then_right, max_words=3) and not is_backchannel(hum_then_right, max_words=2)
    assert not is_backchannel([Word("Mike", 0, 1, 1)])


def test_long_silence_belongs_to_the_agent() -> None:
    turns = [turn("A", 0.0, 4.0, 10), turn("C", 5.0, 8.0, 8), turn("A", 18.0, 20.0, 5)]
    result = run(_quiet(21.0), turns)
    (event,) = of_type(result, "long_silence")
    assert event.role == "agent" and event.speaker == "A"
    assert event.end_s - event.start_s == pytest.approx(10.0, abs=0.3)


def test_patience_violation_after_upset_customer() -> None:
    c = turn("C", 0.0, 5.0, 14)
    threat = Event("threat", "customer", "C", 2.0, 3.0, "legal threat")
    quick = turn("A", c.end_s + 0.1, c.end_s + 4.0, 10)
    result = run(_quiet(), [c, quick], text_events=(threat,))
    (event,) = of_type(result, "patience_violation")
    assert event.role == "agent" and event.start_s == pytest.approx(quick.start_s, abs=0.01)
    slow = turn("A", c.end_s + 1.0, c.end_s + 5.0, 10)
    assert of_type(run(_quiet(), [c, slow], text_events=(threat,)), "patience_violation") == []
    assert of_type(run(_quiet(), [c, quick]), "patience_violation") == []  # not upset


def test_the_patience_rule_has_known_edges() -> None:
    """One rule for the events stage and the scorecard: an agent turn of 8+ words starting from 0.5 s before
    (a longer overlap is an interruption) to 0.3 s after an upset customer turn's end."""
    c = turn("C", 0.0, 5.0, 14)
    end = c.end_s

    def lapses(start_s: float, n: int = 10, upset=((2.0, 3.0),)) -> int:
        return len(patience_violations([c, turn("A", start_s, start_s + 4.0, n)], ROLES, list(upset)))

    assert lapses(end + 0.25) == 1 and lapses(end + 0.35) == 0  # gap
    assert lapses(end - 0.4) == 1 and lapses(end - 0.6) == 0  # overlap: past 0.5 s it is an interruption
    assert lapses(end + 0.1, n=8) == 1 and lapses(end + 0.1, n=7) == 0  # a long turn
    assert lapses(end + 0.1, upset=()) == 0  # the customer was not upset
    raised = Event("raised_voice", "customer", "C", 1.0, 2.0, "")
    agents = Event("raised_voice", "agent", "A", 1.0, 2.0, "")
    assert customer_upset_spans([raised, agents], [(4.0, 4.5)]) == [(1.0, 2.0), (4.0, 4.5)]


def test_a_complaint_makes_the_customer_upset_for_patience() -> None:
    c = turn("C", 0.0, 5.0, 14)
    quick = turn("A", c.end_s + 0.1, c.end_s + 4.0, 10)
    audio, turns = _quiet(), sorted([c, quick], key=lambda t: t.start_s)
    result = analyse(audio, diarization(turns), tuple(turns), ROLES, {"A": 0.9, "C": 0.9}, (), TH, complaints=((1.0, 2.0),))
    assert len(of_type(result, "patience_violation")) == 1


# --------------------------------------------------------------------------- summaries and trajectory


def test_speaker_summaries() -> None:
    turns = [turn("A", 0.0, 6.0, 16), turn("C", 5.0, 11.0, 16), turn("A", 12.0, 14.0, 5)]
    result = run(_quiet(15.0), turns)
    summary = {s.id: s for s in result.speakers}
    assert summary["A"].role == "agent" and summary["A"].channel == 0 and summary["C"].channel == 1
    assert summary["A"].talk_time_s == pytest.approx(turns[0].end_s + turns[2].end_s - 12.0, abs=0.01)
    assert summary["A"].overlap_s == pytest.approx(turns[0].end_s - 5.0, abs=0.01)
    assert summary["A"].talk_ratio + summary["C"].talk_ratio == pytest.approx(1.0, abs=0.002)
    assert summary["C"].rate_wpm == pytest.approx(160.0, rel=0.02)
    assert {t.speaker for t in result.tracks} == {"A", "C"} and len(result.tracks[0].loudness_db) == 15


@pytest.mark.parametrize(("raised", "expected"), [((12.0, 16.0), "calmer"), ((33.0, 37.0), "not_calmer")])
def test_trajectory_from_raised_voice(raised: tuple[float, float], expected: str) -> None:
    a, c, turns = customer_call(raised=raised)
    assert run(make_audio(a, c), turns).trajectory == expected


def test_trajectory_end_is_whole_turns() -> None:
    """The customer complains near the end of a long turn that runs past two thirds of their
    speech, then closes with a short calm turn (the corpus call c09): the end is that last turn."""
    agent = [(0.0, 4.0, 120.0, -26.0), (12.0, 14.0, 120.0, -26.0), (27.5, 30.0, 120.0, -26.0)]
    customer = [(5.0, 11.0, 200.0, -26.0), (15.0, 27.0, 200.0, -26.0), (31.0, 33.0, 200.0, -26.0)]
    turns = [turn("A", 0.0, 4.0, 10), turn("A", 12.0, 14.0, 5), turn("A", 27.5, 30.0, 7),
             turn("C", 5.0, 11.0, 16), turn("C", 15.0, 27.0, 32), turn("C", 31.0, 33.0, 5)]
    complaint = Event("threat", "customer", "C", 25.0, 26.0, "never came")
    result = run(make_audio(voice(35.0, agent, seed=1), voice(35.0, customer, seed=2)), turns, text_events=(complaint,))
    assert result.trajectory == "calmer"


def _said(kind: str, at_s: float) -> Event:
    return Event(kind, "customer", "C", at_s, at_s + 1.0, kind)


def _raised(a: float, b: float) -> Event:
    return Event("raised_voice", "customer", "C", a, b, "+8 dB")


@pytest.mark.parametrize(("evidence", "upset"), [
    ([_raised(10.0, 12.0)], False),  # one loud moment in a friendly call
    ([_raised(10.0, 12.0), _said("complaint", 15.0)], True),  # voice and words agree
    ([_said("complaint", 30.0)], True),  # upset words said calmly
    ([_said("threat", 30.0)], True),
    ([_raised(10.0, 12.0), _raised(40.0, 43.0)], True),  # raised again and again
    ([_raised(10.0, 15.0)], True),  # raised for long
])
def test_customer_upset_when_words_say_so_or_the_voice_is_strong(evidence: list[Event], upset: bool) -> None:
    assert is_upset(evidence) is upset
    assert is_upset(evidence[:1], strong=lambda e: True)  # one very loud stretch is enough


def test_upset_throughout_and_ending_on_a_threat_to_leave_is_not_calmer() -> None:
    """Raised at the start, calmer-sounding at the end but the last turn is "I'm done, cancel my
    contract" (a complaint the scorecard's cues find): not calmer, whatever the voice does."""
    a, c, turns = customer_call(raised=(10.0, 20.0))
    last = max((t for t in turns if t.speaker == "C"), key=lambda t: t.start_s)
    leave = _said("complaint", last.start_s + 1.0)
    assert run(make_audio(a, c), turns, text_events=(leave,)).trajectory == "not_calmer"
    assert run(make_audio(a, c), turns).trajectory == "calmer"


@pytest.mark.parametrize(("at_s", "expected"), [(12.0, "calmer"), (36.0, "not_calmer")])
def test_trajectory_from_threats(at_s: float, expected: str) -> None:
    a, c, turns = customer_call()
    threat = Event("threat", "customer", "C", at_s, at_s + 1.0, "I'll sue you")
    assert run(make_audio(a, c), turns, text_events=(threat,)).trajectory == expected


# --------------------------------------------------------------------------- speed


@pytest.mark.slow
def test_ten_minute_call_finds_every_repeated_raised_stretch() -> None:
    """A 10-minute call built from one 45 s scene repeated: one raised_voice per repeat.

    Speed is measured by scripts/bench.py, not here."""
    a, c, turns = customer_call(raised=(24.0, 28.0))
    reps = 600.0 / 45.0
    n = int(600 * SR)
    a10, c10 = np.resize(a, n), np.resize(c, n)
    long_turns = [
        Turn(t.speaker, t.role, t.start_s + 45.0 * r, t.end_s + 45.0 * r, t.text, tuple(Word(w.text, w.start_s + 45.0 * r, w.end_s + 45.0 * r, w.probability, w.speaker) for w in t.words))
        for r in range(int(reps))
        for t in turns
    ]
    result = run(make_audio(a10, c10), long_turns)
    assert len(of_type(result, "raised_voice")) == int(reps)
