"""saraban's checking engine: address → normalise → policy → DNS → SMTP → classify, and the scheduler.

The engine knows nothing of Textual, TinyDB or files. It takes `Agency` objects and an
`EngineConfig`, and emits events carrying `Verdict` objects with their evidence.
"""
