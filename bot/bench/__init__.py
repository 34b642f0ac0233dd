"""Performance benchmark: this engine beside the LangChain-tutorial pipeline and BM25 alone.

``python -m bot.bench`` measures, in one run on one corpus and one embedding
model: retrieval quality on the CMRC and RGB sets, ingestion throughput against
the embedder's own, query latency alone and under concurrent load, growth to
100k chunks in embedded Chroma and a ``chroma run`` server, memory, and cold
start.  ``--smoke`` runs every phase on a tiny slice in about a minute.
"""
