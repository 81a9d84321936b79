"""Speech: audio loading, line levels, diarization, transcription, words to speakers, roles, re-hearing."""
