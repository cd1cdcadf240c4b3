"""One ingest layer under every importer: file bytes → one table model (`core.ingest.model`).

Both the plan importer (`plans/`) and the directory importer (`directory/`) read files through here:
text is decoded once, tables are found once, and every cell keeps its text, colour and span.
"""
