"""Stage 2: channel activity with crosstalk, and the embedded mono diarizer on real voices."""

from __future__ import annotations

import numpy as np
import pytest
from callsynth.speech import place, say, silence, write_wav

from callcoach.speech.audio import load_audio
from callcoach.speech.diarize import ChannelDiarizer, EmbeddedDiarizer, choose_backend, mask_to_segments
from callcoach.speech.diarize.embedded import _drop_shadow_speakers

AGENT = [
    "Thank you for calling Northwind Energy, this is Dana, how can I help you today?",
    "I'm sorry to hear that. Could you tell me your account number please?",
    "Thank you. I can see the double charge and I will issue a refund today.",
]
CUSTOMER = [
    "Hi, I was charged twice on my last bill and I'm not happy about it.",
    "Sure, it is four five six seven eight, I have been a customer for years.",
    "Okay, that is great. Thank you very much for your help.",
]


def _dialogue():
    """Alternating agent (flite slt) and customer (espeak male) turns with known times."""
    parts_a, parts_c, truth = [], [], []
    t = 0.5
    for a, c in zip(AGENT, CUSTOMER):
        xa = say(a, "flite:slt")
        parts_a.append((t, xa))
        truth.append(("A", t, t + len(xa) / 16000))
        t += len(xa) / 16000 + 0.6
        xc = say(c, "espeak:en-us+m3")
        parts_c.append((t, xc))
        truth.append(("C", t, t + len(xc) / 16000))
        t += len(xc) / 16000 + 0.6
    total = t + 0.5
    return place(parts_a, total), place(parts_c, total), truth


@pytest.fixture(scope="module")
def dialogue():
    return _dialogue()


def _frame_error(segments, truth, total_s, mapping):
    step = 0.02
    n = int(total_s / step)
    ref = np.zeros((2, n), bool)
    hyp = np.zeros((2, n), bool)
    for who, a, b in truth:
        ref[0 if who == "A" else 1, int(a / step) : int(b / step)] = True
    for s in segments:
        if s.speaker in mapping:
            hyp[mapping[s.speaker], int(s.start_s / step) : int(s.end_s / step)] = True
    speech = ref.any(axis=0)
    wrong = (ref != hyp).any(axis=0)
    return wrong[speech | hyp.any(axis=0)].mean()


def test_channels_reject_crosstalk(tmp_path, dialogue):
    agent, customer, truth = dialogue
    left = agent + 10 ** (-25 / 20) * customer  # bleed of the other party, 25 dB down
    right = customer + 10 ** (-25 / 20) * agent
    audio = load_audio(write_wav(tmp_path / "stereo.wav", np.stack([left, right])))
    assert choose_backend(audio, "auto") == "channels"
    d = ChannelDiarizer().diarize(audio)
    assert d.channel_of == {"S1": 0, "S2": 1}
    err = _frame_error(d.segments, truth, audio.duration_s, {"S1": 0, "S2": 1})
    assert err < 0.05
    # bleed never becomes a turn of the wrong speaker
    for s in d.segments:
        idx = 0 if s.speaker == "S1" else 1
        inside = [w for w in truth if (w[0] == "A") == (idx == 0) and w[1] - 0.3 <= s.start_s <= w[2]]
        assert inside, f"{s} is not inside any turn of its own speaker"


@pytest.fixture(scope="module")
def embedded():
    return EmbeddedDiarizer()


def test_channels_drop_hold_music_heard_as_no_speech(tmp_path, dialogue, embedded):
    """Hold music on both channels is loud but nobody's turn; the segmentation model says so."""
    from callcoach.evaluation.degrade import hold_music

    agent, customer, truth = dialogue
    music = hold_music(12.0, 16_000, np.random.default_rng(0)).astype(np.float32)
    start_s = len(agent) / 16_000 + 1.0
    left = np.concatenate([agent, silence(1.0), music, silence(1.0)])
    right = np.concatenate([customer, silence(1.0), music, silence(1.0)])
    audio = load_audio(write_wav(tmp_path / "hold.wav", np.stack([left, right])))

    def in_music(d):
        return [s for s in d.segments if s.end_s > start_s + 0.5 and s.start_s < start_s + 11.5]

    assert in_music(ChannelDiarizer().diarize(audio)), "energy alone takes the music for speech"
    d = ChannelDiarizer(speech=embedded.speech_probability).diarize(audio)
    assert in_music(d) == []
    assert _frame_error(d.segments, truth, start_s, {"S1": 0, "S2": 1}) < 0.05


@pytest.mark.parametrize("gated", [False, True], ids=["energy", "energy+speech model"])
def test_quiet_agent_channel_still_found(tmp_path, dialogue, embedded, gated):
    agent, customer, truth = dialogue
    left = 10 ** (-15 / 20) * (agent + 10 ** (-25 / 20) * customer)
    right = customer + 10 ** (-25 / 20) * agent
    audio = load_audio(write_wav(tmp_path / "quiet.wav", np.stack([left, right])))
    d = ChannelDiarizer(speech=embedded.speech_probability if gated else None).diarize(audio)
    assert _frame_error(d.segments, truth, audio.duration_s, {"S1": 0, "S2": 1}) < 0.06


def test_embedded_finds_two_speakers_in_mono(tmp_path, dialogue):
    agent, customer, truth = dialogue
    audio = load_audio(write_wav(tmp_path / "mono.wav", agent + customer))
    assert choose_backend(audio, "auto") == "embedded"
    d = EmbeddedDiarizer().diarize(audio)
    assert len(d.speakers) == 2
    first = min(d.segments, key=lambda s: s.start_s).speaker
    other = next(s for s in d.speakers if s != first)
    err = _frame_error(d.segments, truth, audio.duration_s, {first: 0, other: 1})
    assert err < 0.10


def test_embedded_keeps_overlap(tmp_path):
    a = say("Thank you for calling Northwind Energy, this is Dana, how can I help you today?", "flite:slt")
    c = say("No no no, listen to me, I have been waiting for three weeks for this refund.", "espeak:en-us+m3")
    start_c = len(a) / 16000 - 1.5
    x = place([(0.5, a), (0.5 + start_c, c)])
    audio = load_audio(write_wav(tmp_path / "overlap.wav", x))
    d = EmbeddedDiarizer(max_speakers=2).diarize(audio)
    assert len(d.speakers) == 2
    t = 0.5 + start_c + 0.7  # inside the overlap
    active = {s.speaker for s in d.segments if s.start_s <= t <= s.end_s}
    assert len(active) == 2


def test_mask_to_segments_fills_short_gaps_and_drops_blips():
    mask = np.zeros(100, bool)
    mask[10:30] = True
    mask[32:50] = True  # 2-frame gap: filled
    mask[70:72] = True  # 2-frame blip: dropped
    segs = mask_to_segments(mask, 0.02, "S1", min_on_s=0.1, min_off_s=0.1)
    assert [(s.start_s, s.end_s) for s in segs] == [(0.2, 1.0)]


def test_shadow_speaker_that_is_never_heard_alone_is_dropped():
    """One window, three local speakers: 0 talks alone then is overlapped for a whole turn by 1 (a shadow that
    is never alone), 2 interrupts 0 and goes on alone afterwards (a real overlap), and 1 also makes a short
    overlapped blip that must stay (a backchannel is not a shadow)."""
    n = 300
    probs = np.zeros((1, n, 3), dtype=np.float32)
    probs[0, 0:200, 0] = 0.9
    probs[0, 50:120, 1] = 0.7  # shadow: 70 frames, never alone
    probs[0, 180:260, 2] = 0.9  # overlaps 0 for 20 frames, then alone for 60
    probs[0, 20:30, 1] = 0.8  # 10-frame backchannel over speaker 0
    active = probs > 0.5
    kept = _drop_shadow_speakers(active, probs, min_frames=30)
    assert not kept[0, 50:120, 1].any()
    assert kept[0, 20:30, 1].all()
    assert kept[0, 180:260, 2].all()
    assert (kept[0, :, 0] == active[0, :, 0]).all()


def test_interruption_that_goes_on_alone_after_a_breath_is_no_shadow():
    """The demo call agent_loses_temper mixed to mono: the customer cuts in for 70 frames (1.2 s) while the agent
    finishes, pauses 12 frames (0.2 s), then goes on alone; the model's run of the overlap is never alone."""
    probs = np.zeros((1, 300, 3), dtype=np.float32)
    probs[0, 0:150, 0] = 0.95  # the agent
    probs[0, 80:150, 1] = 0.9  # the customer over the agent's end
    probs[0, 162:280, 1] = 0.9  # and on alone
    kept = _drop_shadow_speakers(probs > 0.5, probs, min_frames=30)
    assert kept[0, 80:150, 1].all() and kept[0, 162:280, 1].all()


def test_two_shadows_of_each_other_keep_the_stronger():
    n = 100
    probs = np.zeros((1, n, 3), dtype=np.float32)
    probs[0, 10:90, 0] = 0.95
    probs[0, 10:90, 1] = 0.6
    kept = _drop_shadow_speakers(probs > 0.5, probs, min_frames=30)
    assert kept[0, 10:90, 0].all() and not kept[0, :, 1].any()
