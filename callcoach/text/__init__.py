"""Text: normalising what was said, the phrase engine that finds cues in it, the built-in cue data, utterances, the sentence matcher."""
