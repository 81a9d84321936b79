"""Analysis: prosody (loudness, pitch, pace), prosody events and text events (threats, abuse), trajectory."""
