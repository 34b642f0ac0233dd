"""``python -m bot.bench [--smoke] [--out docs/benchmarks.md]``."""

from bot.bench.run import main

raise SystemExit(main())
