"""Response latency of a file-mode run, measured from outside on its input and output WAVs:

    .venv/bin/assistant run --input SESSION.wav --output SPOKEN.wav
    .venv/bin/python scripts/measure_latency.py SESSION.wav SPOKEN.wav

For each reply: the time from the last speech in the input to the first audible sample of
the reply in the output (both files share one timeline). Prints each, the median and p90.
"""

import statistics
import sys
from pathlib import Path

from assistant.bench import _percentile, latencies_from_files

if __name__ == "__main__":
    values = latencies_from_files(Path(sys.argv[1]), Path(sys.argv[2]))
    print("latencies (s):", " ".join(f"{v:.3f}" for v in values))
    if values:
        print(f"replies {len(values)}, median {statistics.median(values):.3f} s, p90 {_percentile(values, 0.9):.3f} s")
