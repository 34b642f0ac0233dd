"""Benchmark results as typed records; the report renders them, the smoke test reads them."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Load(BaseModel):
    """1-minute load average before and after a measurement (the machine is shared)."""

    before: float
    after: float

    def __str__(self) -> str:
        return f"{self.before:.1f}→{self.after:.1f}"


class Latency(BaseModel):
    """Per-request latency of one measured loop."""

    n: int
    p50_ms: float
    p95_ms: float
    mean_ms: float
    workers: int = 1
    per_second: float = Field(description="Requests completed per wall-clock second.")
    load: Load


class Recall(BaseModel):
    """Retrieval quality of one system on one question set."""

    system: str
    dataset: str
    questions: int
    at_1: float
    at_5: float
    at_k: float | None = Field(default=None, description="Recall at the system's own default k, when not 5.")
    mrr_5: float = Field(default=0.0, description="Mean reciprocal rank of the first gold chunk within 5 (0 if none).")
    k: int = 5


class QueryRow(BaseModel):
    """Latency of one system on one real corpus (single user and concurrent askers)."""

    system: str
    dataset: str
    chunks: int
    kind: str = Field(description="'retrieval' or 'answer'.")
    single: Latency
    concurrent: Latency | None = None
    stages_ms: dict[str, float] = Field(default_factory=dict, description="p50 of each answer stage.")


class IngestRow(BaseModel):
    """One ingestion measurement."""

    system: str
    what: str
    chunks: int
    chunks_embedded: int = Field(description="Chunks run through the model (embedding-cache misses).")
    seconds: float
    chunks_per_s: float | None = Field(default=None, description="Chunks indexed per second, for builds.")
    phase: str = ""
    cores_used: float = Field(description="CPU seconds / wall seconds of this process during the run.")
    load: Load


class EmbedderThroughput(BaseModel):
    """The embedding model called directly on the same texts, without the engine around it."""

    texts: int
    chunks_per_s: float
    runs: list[float]
    batch: int
    load: Load


class Bm25Memory(BaseModel):
    """What the keyword side holds in memory after loading (to show it keeps no chunk texts)."""

    chunks: int
    ids_mb: float
    vocab_mb: float
    postings_mb: float = Field(description="Score matrix arrays, memory-mapped from disk.")
    traced_mb: float = Field(description="Python heap allocated while loading it (tracemalloc).")
    holds_texts: bool
    chunk_text_mb: float = Field(description="Size of all chunk texts, for comparison.")


class ScaleRow(BaseModel):
    """One collection size in one Chroma deployment."""

    size: int
    store: str
    build_s: float | None = None
    bm25_build_s: float | None = None
    first_answer_s: float
    retrieval: Latency
    retrieval_concurrent: Latency
    answer: Latency
    answer_concurrent: Latency
    stages_ms: dict[str, float] = Field(default_factory=dict)
    recall_at_5: float | None = None
    recall_questions: int = 0
    reused: bool = Field(default=False, description="Collection built by an earlier run; build times are that run's.")
    peak_rss_mb: float
    server_peak_rss_mb: float | None = None
    bm25: Bm25Memory | None = None


class ColdStart(BaseModel):
    """Process start to first answer with an existing index."""

    what: str
    runs_s: list[float] = Field(default_factory=list)
    median_s: float | None = None
    phases_s: dict[str, float] = Field(default_factory=dict)
    note: str = ""
    load: Load | None = None


class Target(BaseModel):
    """One stated target and how the run did against it."""

    name: str
    goal: str
    measured: str
    met: bool | None
    note: str = ""


class Machine(BaseModel):
    cpus: int
    memory_gb: float
    python: str
    versions: dict[str, str]
    load_start: float


class BenchReport(BaseModel):
    """Everything one ``python -m bot.bench`` run measured."""

    command: str
    smoke: bool
    started: str
    seconds: float = 0.0
    machine: Machine
    corpora: dict[str, int] = Field(default_factory=dict, description="Chunks per real corpus (ours / baseline).")
    recall: list[Recall] = Field(default_factory=list)
    queries: list[QueryRow] = Field(default_factory=list)
    ingest: list[IngestRow] = Field(default_factory=list)
    embedder: EmbedderThroughput | None = None
    scale: list[ScaleRow] = Field(default_factory=list)
    cold_start: list[ColdStart] = Field(default_factory=list)
    peak_rss_mb: float = 0.0
    targets: list[Target] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    scope: list[str] = Field(default_factory=list, description="Where this run used less than the whole data.")
